"""Every metric perfkit knows, each declared once.

A :class:`Metric` says everything perfkit needs about a metric besides its policy numbers
(window, lag, target, which live in ``policy.toml``): how its units and defects are counted,
which inputs it needs and which columns it reads, what a missing input means for it, its
root-cause family and the causes to suggest, the keys of Amazon's report to reconcile
against, the segments it can be split by, and where it is shown. Every list that used to be
kept by hand (inputs, pruned columns, missing-input notes, cause families, reconcile fields,
the index columns, the explorer's charts) is derived from these declarations.

Adding a metric is one :func:`declare` plus its ``[metrics.<id>]`` table in the policy; a
policy naming a metric with no declaration, or a segment the declaration cannot produce, is
refused when the policy loads (:func:`check_policy`).
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import dataclasses
from pathlib import Path

from perfkit.core.errors import PerfkitError
from perfkit.core.encodings import decode
from perfkit.core.policy import Policy, parse_policy, read_policy
from perfkit.engine import rules
from perfkit.engine.units import AccountDays, Units, judged_rows, segment_masks, without_uncovered
from perfkit.loading.schema import TABLE_NOTES, TABLES

if TYPE_CHECKING:
    from perfkit.core.account import Account
    from perfkit.core.policy import MetricPolicy

# Segments a counting rule can produce: "category" expands to one segment per category.
SEGMENTS = ("all", "MFN", "AFN", "category")


@dataclass(frozen=True)
class AmazonField:
    """Where a metric's current window sits in Amazon's Seller Performance report (V2 JSON).

    ``path`` leads from a marketplace entry to the metric's node; ``listed`` names a list of
    such nodes for metrics Amazon reports over several windows (late shipment: 10 and 30
    days), of which the one closest to the policy window is taken. Keys are matched ignoring
    case and punctuation; the first present counts.
    """

    path: tuple[str, ...]
    segment: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    listed: str | None = None


@dataclass(frozen=True)
class Metric:
    """One metric's declaration (see the module docstring).

    Parameters
    ----------
    id : str
        The metric id used in the policy, the CSV contract and every API.
    rule : callable
        ``rule(days) -> Units``: the counting rule (see :mod:`perfkit.engine.rules`). Metrics that share
        a rule (late shipment over 10 and 30 days) share its units.
    needs : tuple of str
        Inputs whose absence makes the value incomplete: a table (``"feedback"``) or an
        orders column (``"orders.refund_date"``).
    reads : tuple of str
        Optional orders columns the rule reads (column pruning for Parquet).
    tables : tuple of str
        Optional tables the rule reads.
    notes : dict
        Input -> what its absence means for this metric, as a user reads it.
    family : str
        The root-cause family (:data:`perfkit.poa.causes.CATALOGUE`).
    suggested : tuple of str
        Causes a POA suggests from the data when the analyst has chosen none.
    amazon : tuple of AmazonField
        Where Amazon's report gives this metric, per segment.
    segments : tuple of str
        The segments the rule can produce (a subset of :data:`SEGMENTS`).
    index : bool
        Shown as a column of the portfolio index.
    early_of : str or None
        For a maturing view: the metric whose chart shows it as a dashed line.
    essential : tuple of tuple of str
        Groups of inputs without which the metric has no value at all: when every input of a
        group is missing, its values are ``no_data`` (a rate counted from nothing is not 0%).
    headline : bool
        Shown in status tables and charts beside the targeted rates although it has no target.
    anchor : str
        The column that places a unit in a window. Units of the population without it are
        counted apart (:attr:`Units.uncovered`): a value computed without them is flagged as
        computed on part of its units, and ``perfkit check`` says how many the column covers.
    covers : tuple of str
        Defect columns the defect test reads where an empty cell is an answer (no delivery yet:
        late; no upload: missing). Such a column covers the units whose order comes from a file
        that carries it; a unit from a file without it cannot be judged and is counted apart,
        like a unit without its anchor.
    """

    id: str
    rule: Callable[[AccountDays], Units]
    needs: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    notes: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    family: str = "other"
    suggested: tuple[str, ...] = ()
    amazon: tuple[AmazonField, ...] = ()
    segments: tuple[str, ...] = ("all",)
    index: bool = False
    early_of: str | None = None
    essential: tuple[tuple[str, ...], ...] = ()
    headline: bool = False
    anchor: str = "orders.purchase_date"
    covers: tuple[str, ...] = ()


METRICS: dict[str, Metric] = {}


def declare(metric: Metric) -> Metric:
    """Add (or replace) a metric declaration; returns it."""
    unknown = sorted(set(metric.segments) - set(SEGMENTS))
    if unknown:
        raise PerfkitError(f"metric {metric.id}: unknown segment {unknown[0]!r}; choose from {', '.join(SEGMENTS)}")
    METRICS[metric.id] = metric
    return metric


def forget(metric_id: str) -> None:
    """Remove a declaration (for tests and plug-ins that declare their own metrics)."""
    METRICS.pop(metric_id, None)


def get(metric_id: str) -> Metric:
    """The declaration of a metric; an unknown id is a user error naming the known ones."""
    try:
        return METRICS[metric_id]
    except KeyError:
        raise PerfkitError(f"unknown metric {metric_id!r}; choose from {', '.join(METRICS)}") from None


def load_policy(path: str | Path | None = None) -> Policy:
    """Read a policy file (:func:`perfkit.core.policy.read_policy`) and check it against the metrics
    declared here: the policy every command and the Python API use."""
    if path is None:
        return check_policy(read_policy())
    p = Path(path)
    if not p.is_file():
        raise PerfkitError(f"{p}: policy file not found; pass the path of a TOML file")
    # A policy saved by a spreadsheet or an editor in GB18030 or UTF-16 reads like a data file.
    return check_policy(parse_policy(decode(p.read_bytes(), str(p)), str(p)))


def resolve_policy(policy: Policy | str | Path | None) -> Policy:
    """A Policy, a path, or None (the default) as a Policy: called at the edges only (CLI,
    explorer, report, public API), which hand the result down."""
    return policy if isinstance(policy, Policy) else load_policy(policy)


def check_policy(policy: Policy) -> Policy:
    """Refuse a policy whose metrics have no declaration or ask for segments the rule cannot give."""
    for mp in policy.metrics.values():
        if mp.id not in METRICS:
            raise PerfkitError(f"{policy.source}: metric '{mp.id}' has no counting rule in perfkit; "
                               f"policy metrics must be among {', '.join(METRICS)}")
        allowed = METRICS[mp.id].segments
        for seg in mp.segments:
            if seg not in allowed:
                raise PerfkitError(f"{policy.source}: [metrics.{mp.id}] segment {seg!r} is not available for "
                                   f"this metric; choose from {', '.join(allowed)}")
    return policy


# --- what the declarations add up to ------------------------------------------------------------


def inputs(metric_id: str) -> tuple[str, ...]:
    """The inputs a metric needs (a missing one makes its value incomplete)."""
    return METRICS[metric_id].needs if metric_id in METRICS else ()


def lacking(metric_id: str, has: Callable[[str], bool]) -> list[str]:
    """The essential inputs a metric lacks (``has`` tells whether the account supplied an input);
    empty when it can be counted."""
    groups = METRICS[metric_id].essential if metric_id in METRICS else ()
    return [" or ".join(group) for group in groups if not any(has(i) for i in group)]


def reads(metric_ids: Iterable[str]) -> tuple[set[str], set[str]]:
    """The optional orders columns and tables a set of metrics reads (for column pruning)."""
    columns: set[str] = set()
    tables: set[str] = set()
    for m in metric_ids:
        if m in METRICS:
            columns |= set(METRICS[m].reads)
            tables |= set(METRICS[m].tables)
    return columns, tables


def missing_note(item: str) -> str:
    """What a missing input means, from every metric that needs it (``"not used"`` when none does)."""
    notes = list(dict.fromkeys(m.notes[item] for m in METRICS.values() if item in m.notes))
    return "; ".join(notes) or "not used"


def input_notes(item: str) -> list[str]:
    """What a missing input means, one note each (the metrics that need it, then the column
    itself); each note is also the message key views translate (perfkit.views.labels)."""
    table, _, column = item.partition(".")
    own = TABLES[table][column].note if column and column in TABLES.get(table, {}) else TABLE_NOTES.get(item, "")
    notes = list(dict.fromkeys(m.notes[item] for m in METRICS.values() if item in m.notes))
    return [n for n in notes + [own] if n]


def input_note(item: str) -> str:
    """What a missing input means: the notes of the metrics that need it and of the column itself."""
    return "; ".join(input_notes(item)) or "not used"


def declared_notes() -> list[str]:
    """Every note a missing input can give (for the translations' completeness test)."""
    out = [n for m in METRICS.values() for n in m.notes.values()] + list(TABLE_NOTES.values())
    out += [c.note for cols in TABLES.values() for c in cols.values() if c.note]
    return list(dict.fromkeys(out))


def account_notes(account: Account) -> list[str]:
    """Everything loading noticed about an account, then what each missing input means for the
    metrics (the loader knows the files; only the declarations know what a gap costs)."""
    return account.warnings + [f"missing input {item}: {input_note(item)}" for item in account.missing]


def anchor_coverage(days: AccountDays, policy: Policy) -> list[tuple[str, str, int, int]]:
    """Per metric and column (its anchor, or a defect column of ``covers``) some of its units lack:
    (metric, column, units with it, units of the population), over the whole account."""
    out = []
    for mp in policy.metrics.values():
        metric = METRICS.get(mp.id)
        if metric is None or mp.maturing or lacking(mp.id, days.account.has):
            continue
        if metric.anchor == "orders.purchase_date" and not metric.covers:
            continue
        units = build_units(days, metric, mp)
        lost = 0 if units.uncovered is None else len(units.uncovered.anchor)
        total = len(units.anchor) + lost
        by_column = {c: n for c, n in units.short.items() if n}
        placed = lost - sum(by_column.values())  # the rest of the uncovered lack the anchor
        if placed > 0:
            out.append((mp.id, metric.anchor, total - placed, total))
        out += [(mp.id, c, total - n, total) for c, n in by_column.items()]
    return out


def family(metric_id: str) -> str:
    return METRICS[metric_id].family if metric_id in METRICS else metric_id


def index_metrics(policy: Policy) -> list[str]:
    """The metrics the portfolio index shows, in policy order."""
    return [m for m in policy.metrics if m in METRICS and METRICS[m].index]


def index_columns(policy: Policy) -> list[tuple[str, str | None]]:
    """The portfolio index's columns: (metric, channel) with seller-fulfilled and FBA apart for a
    metric Amazon judges per channel (ODR), else (metric, None) for the segments it judges."""
    cols: list[tuple[str, str | None]] = []
    for m in index_metrics(policy):
        segs = policy[m].segments
        apart = {"MFN", "AFN"} <= set(segs) and policy[m].target != "info"
        cols += [(m, c) for c in ("MFN", "AFN")] if apart else [(m, None)]
    return cols


def index_key(metric: str, channel: str | None) -> str:
    """The key of an index column in an account's index row."""
    return metric if channel is None else f"{metric}:{channel}"


def chart_metrics(policy: Policy, with_info: bool = False) -> list[str]:
    """The metrics drawn as charts, in policy order (maturing views go on their metric's chart):
    those with a target and the headline ones (all with ``with_info``)."""
    return [m for m, mp in policy.metrics.items()
            if not mp.maturing and (with_info or mp.target != "info" or headline(m))]


def headline(metric_id: str) -> bool:
    """Whether a metric without a target is still shown beside the targeted rates."""
    return metric_id in METRICS and METRICS[metric_id].headline


def early_view(metric_id: str, available: Collection[str]) -> str | None:
    """The maturing view drawn on a metric's chart, if one is declared and available."""
    return next((m.id for m in METRICS.values() if m.early_of == metric_id and m.id in available), None)


# --- the metrics ------------------------------------------------------------------------------

_ODR_NOTES = {"feedback": "negative feedback is not counted in ODR",
              "claims": "A-to-z claims are not counted in ODR",
              "chargebacks": "chargebacks are not counted in ODR"}
_ODR_INPUTS = ("feedback", "claims", "chargebacks")
_ODR_AMAZON = (AmazonField(("orderDefectRate", "mfn"), "MFN", ("orderWithDefects", "ordersWithDefects"),
                           ("orderCount",)),
               AmazonField(("orderDefectRate", "afn"), "AFN", ("orderWithDefects", "ordersWithDefects"),
                           ("orderCount",)))
_ODR_CAUSES = ("product_quality", "logistics")
_CHANNELS = ("MFN", "AFN", "all")
_LATE = dict(
    rule=rules.late_shipment, needs=("orders.latest_ship_date", "orders.ship_confirm_date"),
    essential=(("orders.latest_ship_date",), ("orders.ship_confirm_date",)),
    reads=("latest_ship_date", "ship_confirm_date"), family="late_shipment",
    notes={"orders.latest_ship_date": "Late Shipment Rate has no data",
           "orders.ship_confirm_date": "Late Shipment Rate has no data"},
    suggested=("late_confirmation", "carrier_pickup"), segments=("MFN",), index=True, anchor="orders.latest_ship_date",
    # An empty confirmation is "not shipped yet" only in a file that has the column: Amazon's order
    # reports carry none, and the Amazon Fulfilled Shipments report carries it for FBA orders only.
    covers=("orders.ship_confirm_date",),
    amazon=(AmazonField(("lateShipmentRate",), "MFN", ("lateShipmentCount", "lateShipmentsCount"), ("orderCount",),
                        listed="lateShipmentRateList"),))

declare(Metric("odr", rules.odr(None), _ODR_INPUTS, tables=_ODR_INPUTS, notes=_ODR_NOTES, family="odr",
               suggested=_ODR_CAUSES, amazon=_ODR_AMAZON, segments=_CHANNELS, index=True, essential=(_ODR_INPUTS,)))
declare(Metric("odr_early", rules.odr(None), _ODR_INPUTS, tables=_ODR_INPUTS, family="odr",
               suggested=_ODR_CAUSES, segments=_CHANNELS, early_of="odr", essential=(_ODR_INPUTS,)))
declare(Metric("odr_negative_feedback", rules.odr("negative_feedback"), ("feedback",), tables=_ODR_INPUTS,
               family="odr", segments=_CHANNELS, essential=(("feedback",),),
               notes={"feedback": "the negative feedback rate has no data"}))
declare(Metric("odr_claims", rules.odr("a_to_z_claim"), ("claims",), tables=_ODR_INPUTS, family="odr",
               segments=_CHANNELS, essential=(("claims",),),
               notes={"claims": "the A-to-z claim rate has no data"}))
declare(Metric("odr_chargebacks", rules.odr("chargeback"), ("chargebacks",), tables=_ODR_INPUTS, family="odr",
               segments=_CHANNELS, essential=(("chargebacks",),),
               notes={"chargebacks": "the chargeback rate has no data"}))
declare(Metric(
    "cancel_rate", rules.cancel, ("orders.buyer_requested_cancel",), reads=("buyer_requested_cancel",),
    notes={"orders.buyer_requested_cancel": "every cancellation counts as the seller's"},
    family="cancel_rate", suggested=("out_of_stock",), segments=("MFN",), index=True,
    amazon=(AmazonField(("preFulfillmentCancellationRate",), "MFN", ("cancellationCount", "cancelledOrderCount"),
                        ("orderCount",)),)))
declare(Metric("late_shipment_rate_10d", **_LATE))
declare(Metric("late_shipment_rate_30d", **_LATE))
declare(Metric(
    "valid_tracking_rate", rules.valid_tracking,
    ("orders.ship_confirm_date", "orders.latest_delivery_date", "orders.tracking_id"),
    reads=("ship_confirm_date", "latest_delivery_date", "tracking_id", "tracking_valid", "carrier", "category"),
    notes={"orders.ship_confirm_date": "Valid Tracking Rate has no data",
           "orders.latest_delivery_date": "Valid Tracking Rate has no data (Amazon places shipments by their "
                                          "promised delivery date)",
           "orders.tracking_id": "Valid Tracking Rate has no data",
           "orders.category": "Valid Tracking Rate has no per-category figures"},
    family="valid_tracking_rate", suggested=("carrier_no_tracking",), segments=("MFN", "category"), index=True,
    anchor="orders.latest_delivery_date",
    # A missing tracking id is invalid tracking only in a file that has the column: the Amazon
    # Fulfilled Shipments report's tracking numbers are FBA's.
    covers=("orders.tracking_id",),
    essential=(("orders.ship_confirm_date",), ("orders.latest_delivery_date",),
               ("orders.tracking_id", "orders.tracking_valid")),
    amazon=(AmazonField(("validTrackingRate",), "MFN", ("validTrackingCount",), ("shipmentCount",)),)))
declare(Metric(
    "on_time_delivery_rate", rules.on_time_delivery,
    ("orders.latest_delivery_date", "orders.delivered_date", "orders.ship_confirm_date"),
    reads=("ship_confirm_date", "tracking_id", "tracking_valid", "carrier", "latest_delivery_date", "delivered_date"),
    notes={"orders.latest_delivery_date": "On-Time Delivery Rate has no data",
           "orders.ship_confirm_date": "On-Time Delivery Rate has no data",
           "orders.delivered_date": "On-Time Delivery Rate has no data (no delivery date in any row: "
                                    "lateness cannot be judged)"},
    family="on_time_delivery_rate", suggested=("carrier_slow",), segments=("MFN",), index=True,
    anchor="orders.latest_delivery_date", covers=("orders.delivered_date",),
    # Its defect test reads the delivery date: without any, every shipment would look late.
    essential=(("orders.latest_delivery_date",), ("orders.ship_confirm_date",), ("orders.delivered_date",),
               ("orders.tracking_id", "orders.tracking_valid")),
    amazon=(AmazonField(("onTimeDeliveryRate",), "MFN", ("onTimeDeliveryCount",),
                        ("shipmentCountWithValidTracking", "shipmentCount")),)))
declare(Metric(
    "invoice_defect_rate", rules.invoice,
    ("orders.is_business_order", "orders.invoice_upload_date", "orders.ship_confirm_date"),
    reads=("ship_confirm_date", "is_business_order", "invoice_upload_date"),
    notes={"orders.ship_confirm_date": "Invoice Defect Rate has no data",
           "orders.is_business_order": "Invoice Defect Rate has no data",
           "orders.invoice_upload_date": "Invoice Defect Rate has no data (no invoice upload date in any row: "
                                         "Amazon's order reports do not carry it)"},
    family="invoice_defect_rate", suggested=("no_invoice_upload",), segments=("MFN",), index=True,
    covers=("orders.invoice_upload_date",),
    # Its defect test reads the upload date: without any, every business order would look defective.
    essential=(("orders.ship_confirm_date",), ("orders.is_business_order",), ("orders.invoice_upload_date",)),
    amazon=(AmazonField(("invoiceDefectRate",), "MFN", ("invoiceDefect", "invoiceDefectCount"), ("orderCount",)),)))
declare(Metric(
    "return_dissatisfaction_rate", rules.return_dissatisfaction, ("returns", "returns.response_date"),
    tables=("returns",),
    notes={"returns": "Return Dissatisfaction Rate has no data",
           "returns.response_date": "Return Dissatisfaction Rate counts no late response (its late-response "
                                    "component has no data)"}, family="return_dissatisfaction_rate",
    essential=(("returns",),),
    suggested=("slow_response", "wrongful_rejection"), index=True))
declare(Metric(
    "perfect_order_percentage", rules.perfect_order,
    _ODR_INPUTS + ("orders.refund_date", "orders.latest_ship_date"),
    reads=("buyer_requested_cancel", "latest_ship_date", "ship_confirm_date", "refund_date"), tables=_ODR_INPUTS,
    family="odr", suggested=_ODR_CAUSES))
declare(Metric("refund_rate", rules.refund, ("orders.refund_date",), reads=("refund_date",),
               notes={"orders.refund_date": "Refund rate has no data"}, family="odr", suggested=_ODR_CAUSES,
               essential=(("orders.refund_date",),)))
declare(Metric("return_rate", rules.returned, ("returns",), tables=("returns",),
               notes={"returns": "the return rate has no data"}, family="return_rate", segments=_CHANNELS,
               essential=(("returns",),), index=True, headline=True))


# A file that carries one of these answers the defect test as well as the column itself: a
# tracking_valid flag says whether a shipment had valid tracking without its tracking id.
COVER_ALTERNATIVES = {"orders.tracking_id": ("orders.tracking_valid",)}


def build_units(days: AccountDays, metric: Metric, mp: MetricPolicy) -> Units:
    """A metric's units for an account, split by the policy's segments.

    Memoised on ``days``: units do not depend on the as-of day, and metrics sharing a rule
    (late shipment over 10 and 30 days) share its units.
    """
    if mp.id not in days.built:
        if metric.rule not in days._raw:
            days._raw[metric.rule] = metric.rule(days)
        units = dataclasses.replace(days._raw[metric.rule])
        for column in metric.covers:
            judged = judged_rows(days.account.orders, column, COVER_ALTERNATIVES.get(column, ()))
            if judged is not None:  # several orders files, not all with the column
                units = without_uncovered(units, judged, column)
        units.segments = segment_masks(units, mp.segments, days)
        if units.uncovered is not None:
            units.uncovered = dataclasses.replace(units.uncovered)
            units.uncovered.segments = segment_masks(units.uncovered, mp.segments, days)
        days.built[mp.id] = units
    return days.built[mp.id]
