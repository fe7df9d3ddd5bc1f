"""Rates over rolling windows, judged against the policy's targets, for any set of as-of days.

Counting is done with sorted day numbers, never by re-filtering the orders per day: the number
of units with anchor in ``[D-lag-window+1, D-lag]`` and a time ``t <= D`` equals
``#{max(anchor, t-lag) <= D-lag} - #{max(anchor, t-lag-window) <= D-lag-window}``, and each
term is one ``searchsorted`` over all as-of days at once.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import PerfkitError
from .loaders import Account, load_account, select_account_dirs
from .policy import MetricPolicy, Policy, resolve_policy
from .units import BUILDERS, INPUTS, NEVER, AccountDays, Units, build_units, date_to_day, day_to_date, reads

COLUMNS = ["account_id", "as_of", "metric", "segment", "window_days", "numerator", "denominator",
           "rate", "target", "status", "headroom"]


def _running(values: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``out[i]`` = how many values are <= ``lo + i``, for i in 0..hi-lo (one histogram and its running sum)."""
    # Values below lo fall in bucket 0, above hi (NEVER included) in the last bucket.
    buckets = np.clip(values, lo - 1, hi + 1) - (lo - 1)
    return np.cumsum(np.bincount(buckets, minlength=hi - lo + 3))[1:hi - lo + 2]


def window_count(anchor: np.ndarray, t: np.ndarray | None, days: np.ndarray, window: int, lag: int) -> np.ndarray:
    """For each as-of day D: units with anchor in [D-lag-window+1, D-lag] and t <= D.

    ``t=None`` means each unit is known from its anchor on (``t`` = anchor): one histogram of
    the anchors then serves both ends of the window.
    """
    if len(days) == 0:
        return np.zeros(0, dtype=np.int64)
    x = days - lag
    lo, hi = int(x.min()) - window, int(x.max())
    if t is None:
        run = _running(anchor, lo, hi)
        return (run[x - lo] - run[x - window - lo]).astype(np.int64)
    enter = _running(np.maximum(anchor, t - lag), lo, hi)
    leave = _running(np.maximum(anchor, t - lag - window), lo, hi)
    return (enter[x - lo] - leave[x - window - lo]).astype(np.int64)


def judge(mp: MetricPolicy, defects: np.ndarray, denominator: np.ndarray) -> dict[str, np.ndarray]:
    """Numerator, rate, status and exact headroom from integer defect and unit counts."""
    den = denominator.astype(np.int64)
    bad = defects.astype(np.int64)
    good = den - bad
    num = good if mp.counts_good else bad
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    n = len(den)
    status = np.full(n, "info", dtype=object)
    room = np.zeros(n, dtype=np.int64)
    if mp.target != "info":
        p, q = mp.value.numerator, mp.value.denominator
        if mp.target == "<":
            ok = bad * q < p * den
            # The most defects that still meet "< value": ceil(value * den) - 1.
            room = (p * den + q - 1) // q - 1 - bad
        else:
            ok = good * q > p * den
            # The fewest good units that meet "> value" is floor(value * den) + 1.
            room = den - ((p * den) // q + 1) - bad
        warn = np.zeros(n, bool)
        if mp.warn is not None:
            wp, wq = mp.warn.numerator, mp.warn.denominator
            warn = (bad * wq >= wp * den) if mp.target == "<" else (good * wq <= wp * den)
        status = np.where(ok, np.where(warn | (room == 0), "at_risk", "ok"), "breach").astype(object)
    status[den == 0] = "no_data"
    # Headroom is an integer, undefined (NA) for info metrics and empty windows.
    headroom = pd.arrays.IntegerArray(room, (den == 0) | (mp.target == "info"))
    return {"numerator": num, "rate": rate, "status": status, "headroom": headroom}


def _selected(policy: Policy, metrics: Sequence[str] | None, early: bool) -> list[MetricPolicy]:
    if metrics:
        unknown = [m for m in metrics if m not in policy.metrics]
        if unknown:
            raise PerfkitError(f"unknown metric {unknown[0]!r}; choose from {', '.join(policy.metrics)}")
        chosen = [policy[m] for m in metrics]
    else:
        chosen = [m for m in policy.metrics.values() if early or not m.maturing]
    for mp in chosen:
        if mp.id not in BUILDERS:
            raise PerfkitError(f"{policy.source}: metric '{mp.id}' has no counting rule in perfkit; "
                               f"policy metrics must be among {', '.join(BUILDERS)}")
    return chosen


def last_data_day(account: Account) -> pd.Timestamp | None:
    """The account's latest local day with an event in it (deadlines, which lie ahead, excluded)."""
    tz = account.timezone
    stamps = [account.orders[c] for c in ("purchase_date", "ship_confirm_date", "delivered_date",
                                          "invoice_upload_date", "refund_date")]
    stamps += [account.feedback["feedback_date"], account.claims["claim_date"],
               account.chargebacks["chargeback_date"], account.returns["request_date"],
               account.returns["response_date"]]
    latest = [s.max() for s in stamps if len(s) and s.notna().any()]
    if not latest:
        return None
    return max(latest).tz_convert(tz).tz_localize(None).normalize()


def first_data_day(account: Account) -> pd.Timestamp | None:
    p = account.orders["purchase_date"]
    if not p.notna().any():
        return None
    return p.min().tz_convert(account.timezone).tz_localize(None).normalize()


def as_of_days(account: Account, as_of: Iterable[object] | None = None, start: object = None,
               end: object = None) -> np.ndarray:
    """The as-of days asked for: a list, a range, or by default the last day of data."""
    if as_of is not None:
        days = [date_to_day(d) for d in as_of]
    elif start is not None or end is not None:
        last = last_data_day(account) if start is None or end is None else None
        lo = date_to_day(start) if start is not None else date_to_day(first_data_day(account) or last)
        hi = date_to_day(end) if end is not None else date_to_day(last)
        if hi < lo:
            raise PerfkitError(f"--from {day_to_date(lo).date()} is after --to {day_to_date(hi).date()}")
        days = list(range(lo, hi + 1))
    else:
        last = last_data_day(account)
        if last is None:
            raise PerfkitError(f"{account.account_id}: no dated orders, so there is no last day of data; pass --as-of")
        days = [date_to_day(last)]
    return np.asarray(days, dtype=np.int64)


def _segment_values(mp: MetricPolicy, units: Units, days: np.ndarray) -> list[dict]:
    """One block of values per segment: counts, judged, for every as-of day."""
    # Units enter on their anchor day for most metrics; defects are few, so they are counted
    # on their own short arrays.
    from_anchor = units.enter is units.anchor
    bad_rows = np.flatnonzero(units.known < NEVER)
    bad_anchor = units.anchor[bad_rows]
    bad_t = np.maximum(units.enter[bad_rows], units.known[bad_rows])
    segs = units.segments
    # Every order is MFN or AFN: when those two cover every unit, "all" is their sum.
    split = {"all", "MFN", "AFN"} <= set(segs) and bool((segs["MFN"] | segs["AFN"]).all())
    counts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for segment, mask in segs.items():
        if split and segment == "all":
            continue
        whole = bool(mask.all())
        a = units.anchor if whole else units.anchor[mask]
        if from_anchor:
            den = window_count(a, None, days, mp.window, mp.lag)
        else:
            den = window_count(a, units.enter if whole else units.enter[mask], days, mp.window, mp.lag)
        pick = mask[bad_rows]
        counts[segment] = den, window_count(bad_anchor[pick], bad_t[pick], days, mp.window, mp.lag)
    if split:
        counts["all"] = counts["MFN"][0] + counts["AFN"][0], counts["MFN"][1] + counts["AFN"][1]
    return [{"metric": mp.id, "segment": segment, "window_days": mp.window, "target": mp.target_text(),
             "denominator": den, "defects": bad, **judge(mp, bad, den)}
            for segment, (den, bad) in ((seg, counts[seg]) for seg in segs)]


def _assemble(account_id: str, blocks: list[dict], days: np.ndarray) -> pd.DataFrame:
    """One frame from all blocks at once (building a frame per segment costs more than the counting)."""
    n = len(days)
    if not blocks:
        return pd.DataFrame(columns=COLUMNS + ["defects"])

    def repeat(key: str) -> np.ndarray:
        return np.repeat(np.array([b[key] for b in blocks], dtype=object), n)

    def stack(key: str) -> np.ndarray:
        return np.concatenate([b[key] for b in blocks])

    headroom = pd.arrays.IntegerArray(np.concatenate([b["headroom"]._data for b in blocks]),
                                      np.concatenate([b["headroom"]._mask for b in blocks]))
    return pd.DataFrame({
        "account_id": account_id,
        "as_of": np.tile(days.astype("datetime64[D]"), len(blocks)).astype(object),
        "metric": repeat("metric"),
        "segment": repeat("segment"),
        "window_days": np.repeat(np.array([b["window_days"] for b in blocks], dtype=np.int64), n),
        "numerator": stack("numerator"),
        "denominator": stack("denominator"),
        "rate": stack("rate"),
        "target": repeat("target"),
        "status": stack("status"),
        "headroom": headroom,
        "defects": stack("defects"),
    })


def account_series(account: Account, as_of: Iterable[object] | None = None, *, start: object = None,
                   end: object = None, policy: Policy | str | Path | None = None,
                   metrics: Sequence[str] | None = None, early: bool = False,
                   prepared: AccountDays | None = None) -> pd.DataFrame:
    """The daily series of every metric and segment for one account (tidy: one row per value).

    Columns are the CSV contract (:data:`COLUMNS`) plus ``defects`` (defective units, also for
    the rates whose numerator counts good units). ``early=True`` adds the maturing ODR view.
    """
    pol = resolve_policy(policy)
    chosen = _selected(pol, metrics, early)
    days = as_of_days(account, as_of, start, end)
    prepared = AccountDays.reuse(prepared, account, pol)
    blocks: list[dict] = []
    for mp in chosen:
        blocks += _segment_values(mp, build_units(prepared, mp.id), days)
    return _assemble(account.account_id, blocks, days)


def _account_job(folder: str, prune: bool = False, **kwargs) -> tuple[str, pd.DataFrame | None, str | None, list[str]]:
    """Load and compute one account: (name, series, failure, loading warnings); never raises for bad input."""
    name = Path(folder).name
    try:
        columns = tables = None
        if prune and kwargs.get("metrics"):
            columns, tables = reads(kwargs["metrics"])
        account = load_account(folder, columns=columns, tables=tables)
        return name, account_series(account, **kwargs), None, account.warnings
    except PerfkitError as exc:
        return name, None, str(exc), []


def _folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file())


def portfolio_series(root: str | Path, accounts: Sequence[str] | None = None, *, scheduler: str | None = None,
                     jobs: int = 1, prune: bool = False, **kwargs) -> tuple[pd.DataFrame, dict[str, str]]:
    """``account_series`` for every account under a data root; returns (series, failures).

    Accounts are independent: ``jobs`` > 1 computes them in that many local processes, and
    ``scheduler`` (a Dask scheduler address) on a cluster whose workers see ``root`` at the
    same path. ``prune=True`` with ``metrics=`` reads only the columns those metrics need.
    """
    from .cluster import map_accounts

    dirs = select_account_dirs(root, list(accounts) if accounts else None)
    # The largest accounts go first, so no worker is left with a big one at the end.
    order = sorted(range(len(dirs)), key=lambda i: -_folder_bytes(dirs[i]))
    done = map_accounts(_account_job, [str(dirs[i]) for i in order], scheduler, jobs=jobs, prune=prune, **kwargs)
    results = [r for _, r in sorted(zip(order, done), key=lambda pair: pair[0])]
    frames = [frame for _, frame, _, _ in results if frame is not None]
    failures = {name: reason for name, _, reason, _ in results if reason is not None}
    series = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    # Missing inputs and other loading notes travel with the numbers: a rate without its inputs is not 0%.
    series.attrs["warnings"] = {name: notes for name, _, _, notes in results if notes}
    return series, failures


def missing_inputs(account: Account, metric_id: str) -> list[str]:
    """The inputs a metric needs that this account did not supply."""
    return [i for i in INPUTS.get(metric_id, ()) if not account.has(i)]


def to_contract(series: pd.DataFrame) -> pd.DataFrame:
    """Only the contract's columns, in order, with as_of as ISO text."""
    out = series.loc[:, COLUMNS].copy()
    out["as_of"] = out["as_of"].astype(str)
    return out
