"""The fast engine equals a slow, obvious per-day implementation on random accounts.

The reference below reads the rules of the metric spec straight off the loaded tables: for each
as-of day, each unit, plain Python dates from ``zoneinfo``. No day numbers, no sorting, no
shared code with the engine beyond the loader and the policy.
"""
from __future__ import annotations

import datetime as dt
from fractions import Fraction
from zoneinfo import ZoneInfo

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfkit.core.account import Account
from perfkit.loading.loader import load_account
from perfkit.engine.metrics import account_series
from perfkit.core.policy import Policy
from perfkit.engine.registry import load_policy

from .conftest import write_account

BASE = dt.datetime(2026, 3, 1)
ZONES = ["UTC", "Asia/Shanghai", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago"]


def local_date(ts, tz: ZoneInfo) -> dt.date | None:
    if ts is None or pd.isna(ts):
        return None
    return ts.to_pydatetime().astimezone(tz).date()


def slow_reference(acc: Account, policy: Policy, day: dt.date) -> dict[tuple[str, str], tuple[int, int]]:
    """{(metric, segment): (defects, units)} as of ``day``, the obvious way."""
    tz = ZoneInfo(acc.timezone)
    out: dict[tuple[str, str], list[int]] = {}

    def add(metric: str, segments: list[str], defective: bool) -> None:
        for seg in segments:
            cell = out.setdefault((metric, seg), [0, 0])
            cell[1] += 1
            cell[0] += int(defective)

    def window(metric: str) -> tuple[dt.date, dt.date]:
        mp = policy[metric]
        hi = day - dt.timedelta(days=mp.lag)
        return hi - dt.timedelta(days=mp.window - 1), hi

    def known(date) -> bool:
        d = local_date(date, tz)
        return d is not None and d <= day

    neg_fb, counted_claim, any_claim, service_cb = set(), set(), set(), set()
    # A feedback counts from its day until its removal (a removal without a date: never); a denied or
    # withdrawn claim counts until its status date (without one: never). Per order and component the
    # documented span is the hull of its events: the first start to the last end (never, if one never ends).
    spans: dict[tuple[str, str], list] = {}
    for f in acc.feedback.itertuples():
        if f.rating in policy.negative_ratings and not (f.removed and pd.isna(f.removed_date)):
            spans.setdefault(("fb", f.order_id), []).append((f.feedback_date, f.removed_date if f.removed else None))
    for c in acc.claims.itertuples():
        if known(c.claim_date):
            any_claim.add(c.order_id)
        if c.status not in policy.claim_statuses_not_counted:
            spans.setdefault(("cl", c.order_id), []).append((c.claim_date, None))
        elif not pd.isna(c.status_date):
            spans.setdefault(("cl", c.order_id), []).append((c.claim_date, c.status_date))
    for (kind, order_id), events in spans.items():
        start = min((e[0] for e in events), key=lambda x: local_date(x, tz))
        ends = [e[1] for e in events]
        end = None if any(x is None or pd.isna(x) for x in ends) else max(ends, key=lambda x: local_date(x, tz))
        if known(start) and (end is None or not known(end)):
            (neg_fb if kind == "fb" else counted_claim).add(order_id)
    for c in acc.chargebacks.itertuples():
        if c.kind not in policy.chargeback_kinds_not_counted and known(c.chargeback_date):
            service_cb.add(c.order_id)

    returned = {r.order_id for r in acc.returns.itertuples() if known(r.request_date)}

    def inside(metric: str, date) -> bool:
        d = local_date(date, tz)
        lo, hi = window(metric)
        return d is not None and lo <= d <= hi

    for o in acc.orders.itertuples():
        ch = str(o.fulfillment_channel)
        segs = [ch, "all"]
        seller_cancel = o.order_status == "Cancelled" and not o.buyer_requested_cancel
        late_ship = (ch == "MFN" and o.order_status != "Cancelled" and not pd.isna(o.latest_ship_date)
                     and known(o.latest_ship_date)
                     and (pd.isna(o.ship_confirm_date) or o.ship_confirm_date > o.latest_ship_date))
        for metric, bad in (("odr", o.order_id in neg_fb | counted_claim | service_cb),
                            ("odr_early", o.order_id in neg_fb | counted_claim | service_cb),
                            ("odr_negative_feedback", o.order_id in neg_fb),
                            ("odr_claims", o.order_id in counted_claim),
                            ("odr_chargebacks", o.order_id in service_cb)):
            if inside(metric, o.purchase_date):
                add(metric, segs, bad)
        if ch == "MFN" and inside("cancel_rate", o.purchase_date):
            add("cancel_rate", ["MFN"], seller_cancel)
        if ch == "MFN" and o.order_status != "Cancelled" and not pd.isna(o.latest_ship_date):
            late = pd.isna(o.ship_confirm_date) or o.ship_confirm_date > o.latest_ship_date
            for metric in ("late_shipment_rate_10d", "late_shipment_rate_30d"):
                if inside(metric, o.latest_ship_date):
                    add(metric, ["MFN"], late)
        # The file's tracking_valid where it says; else a tracking id (these ids are never placeholders).
        valid = bool(o.tracking_valid) if not pd.isna(o.tracking_valid) else not pd.isna(o.tracking_id)
        if ch == "MFN" and not pd.isna(o.ship_confirm_date) and known(o.ship_confirm_date):
            # Shipments placed by their promised delivery date (lag 14), known once confirmed.
            if not pd.isna(o.latest_delivery_date) and inside("valid_tracking_rate", o.latest_delivery_date):
                cats = ["MFN"] + ([f"category={o.category}"] if not pd.isna(o.category) else [])
                add("valid_tracking_rate", cats, not valid)
            if (valid and not pd.isna(o.latest_delivery_date)
                    and inside("on_time_delivery_rate", o.latest_delivery_date)):
                late = (pd.isna(o.delivered_date) or o.delivered_date > o.latest_delivery_date)
                add("on_time_delivery_rate", ["MFN"], late)
            # Business orders placed by purchase day (the week starting two weeks ago), once confirmed.
            if o.is_business_order and inside("invoice_defect_rate", o.purchase_date):
                deadline = local_date(o.ship_confirm_date, tz) + dt.timedelta(days=1)
                while deadline.weekday() not in policy.business_days:
                    deadline += dt.timedelta(days=1)
                uploaded = local_date(o.invoice_upload_date, tz)
                add("invoice_defect_rate", ["MFN"],
                    deadline <= day and (uploaded is None or uploaded > deadline))
        if inside("perfect_order_percentage", o.purchase_date):
            imperfect = (o.order_id in any_claim or seller_cancel or late_ship or o.order_id in neg_fb
                         or known(o.refund_date) or o.order_id in service_cb)
            add("perfect_order_percentage", ["all"], imperfect)
        if inside("refund_rate", o.purchase_date):
            add("refund_rate", ["all"], known(o.refund_date))
        if inside("return_rate", o.purchase_date):
            add("return_rate", segs, o.order_id in returned)

    hours = dt.timedelta(hours=policy.return_response_hours)
    for r in acc.returns.itertuples():
        if not inside("return_dissatisfaction_rate", r.request_date):
            continue
        deadline = r.request_date + hours
        late = (pd.isna(r.response_date) or r.response_date > deadline) and known(deadline)
        late = late and "returns.response_date" not in acc.missing  # no response dates: lateness unknown
        invalid = (not pd.isna(r.decision) and r.decision == "rejected" and not r.rejection_valid
                   and (pd.isna(r.response_date) or known(r.response_date)))
        add("return_dissatisfaction_rate", ["all"], bool(r.negative_return_feedback or late or invalid))
    return {k: (v[0], v[1]) for k, v in out.items()}


# Inputs without which a metric has no value (docs/data.md): when every input of a group is missing,
# the value is no_data with nothing counted as defective.
ESSENTIAL = {
    "odr": [("feedback", "claims", "chargebacks")], "odr_early": [("feedback", "claims", "chargebacks")],
    "odr_negative_feedback": [("feedback",)], "odr_claims": [("claims",)], "odr_chargebacks": [("chargebacks",)],
    "late_shipment_rate_10d": [("orders.latest_ship_date",), ("orders.ship_confirm_date",)],
    "late_shipment_rate_30d": [("orders.latest_ship_date",), ("orders.ship_confirm_date",)],
    # A column empty in every row is missing too (#20).
    "valid_tracking_rate": [("orders.ship_confirm_date",), ("orders.latest_delivery_date",),
                            ("orders.tracking_id", "orders.tracking_valid")],
    "on_time_delivery_rate": [("orders.latest_delivery_date",), ("orders.ship_confirm_date",),
                              ("orders.delivered_date",), ("orders.tracking_id", "orders.tracking_valid")],
    "invoice_defect_rate": [("orders.ship_confirm_date",), ("orders.is_business_order",),
                            ("orders.invoice_upload_date",)],
    "return_dissatisfaction_rate": [("returns",)], "refund_rate": [("orders.refund_date",)],
    "return_rate": [("returns",)],
}


def lacks_input(acc: Account, metric: str) -> bool:
    return any(all(i in acc.missing for i in group) for group in ESSENTIAL.get(metric, []))


def slow_judgement(mp, bad: int, den: int) -> tuple[str, int | None]:
    """(status, headroom) the obvious way: Fractions, and headroom found by trying every count."""
    if den == 0:
        return "no_data", None
    if mp.target == "info":
        return "info", None
    advisory = mp.mode == "advisory"  # the marketplace only recommends the target: ok or advisory
    if mp.target == "<":
        meets = lambda b: Fraction(b, den) < mp.value  # noqa: E731
        warned = mp.warn is not None and Fraction(bad, den) >= mp.warn
    else:
        meets = lambda b: Fraction(den - b, den) > mp.value  # noqa: E731
        warned = mp.warn is not None and Fraction(den - bad, den) <= mp.warn
    most = max((b for b in range(-den - 1, den + 1) if meets(b)), default=-den - 1)  # most defects still meeting it
    room = most - bad
    if den < mp.min_units:  # fewer units than the marketplace judges (UK On-Time Delivery: 20)
        return "too_few", room
    if advisory:
        return ("ok" if meets(bad) else "advisory"), room
    if not meets(bad):
        return "breach", room
    return ("at_risk" if warned or room == 0 else "ok"), room


def stamp(hours: int | None, date_only: bool = False) -> str:
    if hours is None:
        return ""
    t = BASE + dt.timedelta(hours=hours)
    return t.date().isoformat() if date_only else t.isoformat()


order_rows = st.lists(st.tuples(
    st.integers(0, 24 * 50),                     # purchase hour
    st.sampled_from(["MFN", "AFN"]),
    st.sampled_from(["Shipped", "Cancelled", "Unshipped"]),
    st.booleans(),                               # buyer requested cancel
    st.one_of(st.none(), st.integers(0, 24 * 5)),   # ship-by after purchase (hours)
    st.one_of(st.none(), st.integers(0, 24 * 8)),   # confirm after purchase
    st.sampled_from(["", "true", "false"]),      # tracking_valid
    st.booleans(),                               # has tracking id
    st.sampled_from(["", "Toys", "Garden"]),
    st.one_of(st.none(), st.integers(24, 24 * 12)),  # promised delivery after purchase
    st.one_of(st.none(), st.integers(24, 24 * 15)),  # delivered after purchase
    st.booleans(),                               # business
    st.one_of(st.none(), st.integers(0, 24 * 9)),   # invoice after purchase
    st.one_of(st.none(), st.integers(0, 24 * 40)),  # refund after purchase
    st.booleans(),                               # deadline columns as bare dates
), min_size=1, max_size=25)

event_rows = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 24 * 70), st.integers(1, 5), st.booleans(),
                                st.sampled_from(["granted", "denied", "pending", "withdrawn", "closed"]),
                                st.sampled_from(["service", "fraud", ""]),
                                st.one_of(st.none(), st.integers(0, 24 * 40))),  # removal/decision after (hours)
                      max_size=20)
return_rows = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 24 * 60),
                                 st.one_of(st.none(), st.integers(0, 24 * 4)),
                                 st.sampled_from(["", "authorized", "rejected"]),
                                 st.sampled_from(["", "true", "false"]), st.booleans()), max_size=10)


def write_random_account(root, tz, orders, events, returns, marketplace="US"):
    lines = ["order_id,purchase_date,fulfillment_channel,order_status,buyer_requested_cancel,latest_ship_date,"
             "ship_confirm_date,tracking_id,tracking_valid,category,latest_delivery_date,delivered_date,"
             "is_business_order,invoice_upload_date,refund_date"]
    for i, (p, ch, status, brc, lsd, conf, tv, has_id, cat, ldd, deliv, biz, inv, ref, bare) in enumerate(orders):
        rel = lambda h: None if h is None else p + h  # noqa: E731
        lines.append(",".join([
            f"O{i}", stamp(p), ch, status, str(brc).lower(), stamp(rel(lsd), bare), stamp(rel(conf)),
            "1Z" + str(i) if has_id else "", tv, cat, stamp(rel(ldd), bare), stamp(rel(deliv)),
            str(biz).lower(), stamp(rel(inv)), stamp(rel(ref))]))
    n = len(orders)
    fb = ["order_id,feedback_date,rating,removed,removed_date"]
    cl = ["order_id,claim_date,status,status_date"]
    cb = ["order_id,chargeback_date,kind"]
    for j, (o, h, rating, removed, status, kind, after) in enumerate(events):
        oid = f"O{o % n}"
        later = stamp(None if after is None else h + after)
        [fb.append(f"{oid},{stamp(h)},{rating},{str(removed).lower()},{later if removed else ''}"),
         cl.append(f"{oid},{stamp(h)},{status},{later}"), cb.append(f"{oid},{stamp(h)},{kind}")][j % 3]
    rt = ["return_id,order_id,request_date,response_date,decision,rejection_valid,negative_return_feedback"]
    for j, (o, h, resp, decision, valid, neg) in enumerate(returns):
        rt.append(f"R{j},O{o % n},{stamp(h)},{stamp(None if resp is None else h + resp)},{decision},{valid},"
                  f"{str(neg).lower()}")
    return write_account(root, "rand", tz=tz, marketplace=marketplace, orders="\n".join(lines) + "\n", feedback="\n".join(fb) + "\n",
                         claims="\n".join(cl) + "\n", chargebacks="\n".join(cb) + "\n",
                         returns="\n".join(rt) + "\n")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(tz=st.sampled_from(ZONES), orders=order_rows, events=event_rows, returns=return_rows,
       return_hours=st.sampled_from([48, 24]), marketplace=st.sampled_from([None, "US", "DE", "UK", "JP"]))
def test_engine_equals_slow_reference(tmp_path_factory, tz, orders, events, returns, return_hours, marketplace):
    root = tmp_path_factory.mktemp("prop")
    acc = load_account(write_random_account(root, tz, orders, events, returns, marketplace))
    policy = load_policy()
    if return_hours != 48:
        policy = Policy(**{**policy.__dict__, "return_response_hours": return_hours})
    judged = policy.for_marketplace(marketplace)  # enforced, advisory or absent, as the marketplace judges
    days = [BASE.date() + dt.timedelta(days=k) for k in range(-2, 140, 3)]
    fast = account_series(acc, days, policy=policy, early=True)
    for day in days:
        expected = slow_reference(acc, policy, day)
        got = fast[fast["as_of"] == day]
        assert not set(got["metric"]) & judged.not_applicable  # not computed there: no rows
        for row in got.itertuples():
            mp = judged[row.metric]
            want_bad, want_den = expected.get((row.metric, row.segment), (0, 0))
            if lacks_input(acc, row.metric):  # no value: nothing counted, no rate, no status
                assert (row.defects, row.numerator, row.denominator) == (0, 0, want_den)
                assert pd.isna(row.rate) and row.status == "no_data" and pd.isna(row.headroom)
                continue
            assert (row.defects, row.denominator) == (want_bad, want_den), (day, row.metric, row.segment)
            want_num = want_den - want_bad if mp.counts_good else want_bad
            assert row.numerator == want_num
            if want_den:
                assert Fraction(int(row.numerator), int(row.denominator)) == Fraction(want_num, want_den)
                assert row.rate == want_num / want_den
            else:
                assert pd.isna(row.rate)
            status, room = slow_judgement(mp, want_bad, want_den)
            assert row.status == status, (day, row.metric, row.segment)
            assert (None if pd.isna(row.headroom) else int(row.headroom)) == room, (day, row.metric, row.segment)
        # Every (metric, segment) the reference saw is in the fast output (categories included).
        seen = set(zip(got["metric"], got["segment"]))
        assert {k for k, v in expected.items() if v[1] and k[0] in judged.metrics} <= seen
