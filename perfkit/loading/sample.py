"""Realistic sample accounts in the canonical format, generated vectorised and deterministic.

Each account is a profile: daily volume with a weekly rhythm, a channel mix, categories and
carriers, and the incidents sellers live through (a carrier that loses tracking, a stock-out,
a bad batch of product, slow return handling, missed business invoices, a small shop that two
claims push over 1% ODR). The same code makes the committed ``data/sample/`` and the
multi-million-order benchmark data.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from perfkit.core.atomic import atomic_write_bytes, atomic_write_text
from perfkit.core.errors import PerfkitError

DAY = np.timedelta64(1, "D")
SEC = np.timedelta64(1, "s")
WEEKLY = np.array([1.05, 1.0, 0.98, 1.0, 1.08, 0.9, 0.85])  # Monday .. Sunday

COMMENTS_GOOD = [
    "Fast delivery, exactly as described.", "Great seller, would buy again!",
    "质量很好，包装完好。", "Arrived early and well packed.", "Good value & quick shipping.",
    "Produkt wie beschrieben, schnelle Lieferung.", "Perfect, thanks!",
]
COMMENTS_BAD = [
    "Item arrived broken, seller never replied.", "Never received my order. Tracking shows nothing.",
    "Not as described - cheap material.", "收到的商品有破损，联系卖家没有回复。",
    "Package was 2 weeks late & the box was crushed.", "Wrong size sent <again>.",
    "Stopped working after 3 days.",
]
CLAIM_REASONS = ["Item not received", "Item not as described", "Damaged item", "Late delivery",
                 "Refund not received"]


@dataclass
class Incident:
    kind: str  # carrier_tracking, stock_out, bad_batch, slow_returns, missed_invoices, late_shipping, two_claims
    start: int  # day offsets from the account's first day
    end: int
    target: str | None = None  # the carrier or category hit


@dataclass
class Profile:
    account_id: str
    name: str
    marketplace: str
    timezone: str
    daily_orders: float
    mfn_share: float
    categories: list[str]
    carriers: list[str]
    business_share: float = 0.04
    incidents: list[Incident] = field(default_factory=list)


def default_profiles(days: int) -> list[Profile]:
    """The sample portfolio; incidents sit in the last months so they show in current windows."""
    d = days
    return [
        Profile("us-summit-outdoor", "山峰户外 Summit Outdoor (US)", "US", "America/Los_Angeles", 60, 0.7,
                ["Sports & Outdoors", "Tools", "Garden"], ["UPS", "USPS", "FedEx", "YunExpress"],
                incidents=[Incident("carrier_tracking", d - 40, d - 12, "YunExpress"),
                           Incident("late_shipping", d - 75, d - 60, None)]),
        Profile("uk-homechoice", "HomeChoice 家居优选 (UK)", "UK", "Europe/London", 45, 0.8,
                ["Home & Kitchen", "Furniture", "Lighting"], ["Royal Mail", "DPD", "Evri"],
                business_share=0.12,
                incidents=[Incident("stock_out", d - 9, d - 2, "Lighting"),
                           Incident("missed_invoices", d - 30, d, None)]),
        Profile("de-shenzhen-elec", "深圳电子 Shenzhen Electronics (DE)", "DE", "Europe/Berlin", 50, 0.55,
                ["Electronics", "Cell Phone Accessories", "Computers"], ["DHL", "Hermes", "4PX"],
                incidents=[Incident("bad_batch", d - 85, d - 40, "Cell Phone Accessories"),
                           Incident("slow_returns", d - 35, d, None)]),
        Profile("jp-tiny-shop", "小店 Tiny Shop (JP)", "JP", "Asia/Tokyo", 3.2, 1.0,
                ["Beauty", "Kitchen"], ["Japan Post", "Yamato"],
                incidents=[Incident("two_claims", d - 55, d - 45)]),
        Profile("us-healthy-fba", "健康生活 Healthy Living (US, FBA)", "US", "America/New_York", 80, 0.15,
                ["Health & Household", "Grocery"], ["UPS", "USPS"]),
    ]


def _profiles_for(n: int, days: int, rng: np.random.Generator, daily: float | None) -> list[Profile]:
    base = default_profiles(days)
    out = []
    for i in range(n):
        p = base[i % len(base)]
        if i >= len(base):
            p = Profile(f"{p.account_id}-{i // len(base) + 1:03d}", f"{p.name} #{i // len(base) + 1}",
                        p.marketplace, p.timezone, p.daily_orders * rng.uniform(0.6, 1.4), p.mfn_share,
                        p.categories, p.carriers, p.business_share, p.incidents)
        if daily is not None:
            p = Profile(p.account_id, p.name, p.marketplace, p.timezone, daily, p.mfn_share, p.categories,
                        p.carriers, p.business_share, p.incidents)
        out.append(p)
    return out


def _active(inc: Incident, day: np.ndarray) -> np.ndarray:
    return (day >= inc.start) & (day < inc.end)


def generate_account(profile: Profile, start: str, days: int, seed: int) -> dict[str, pd.DataFrame]:
    """One account's tables with local naive datetimes (deadlines at 23:59:59 local)."""
    rng = np.random.default_rng([seed, sum(map(ord, profile.account_id))])
    first = np.datetime64(start, "D")
    day_idx = np.arange(days)
    dow = (day_idx + (first.astype(np.int64) + 3)) % 7
    growth = np.linspace(0.9, 1.1, days)
    per_day = rng.poisson(profile.daily_orders * WEEKLY[dow] * growth)
    n = int(per_day.sum())
    oday = np.repeat(day_idx, per_day)
    purchase = first + oday * DAY + rng.integers(0, 86400, n) * SEC
    mfn = rng.random(n) < profile.mfn_share
    cats = np.array(profile.categories)[rng.integers(0, len(profile.categories), n)]
    carriers = np.array(profile.carriers)[rng.integers(0, len(profile.carriers), n)]
    business = rng.random(n) < profile.business_share
    incidents = {i.kind: i for i in profile.incidents}

    # Cancellations: some by buyers, a few by the seller; a stock-out makes the seller cancel.
    cancel_p = np.full(n, 0.008)
    seller_cancel_share = np.full(n, 0.25)
    if "stock_out" in incidents:
        inc = incidents["stock_out"]
        hit = _active(inc, oday) & (cats == inc.target) & mfn
        cancel_p[hit] = 0.45
        seller_cancel_share[hit] = 0.95
    cancelled = rng.random(n) < cancel_p
    buyer_cancel = cancelled & (rng.random(n) >= seller_cancel_share)

    # Ship-by: two days after purchase (skip Sunday); confirmation usually well before.
    handling = 2 + ((dow[oday] + 2) % 7 == 6)
    lsd_day = first + (oday + handling) * DAY
    latest_ship = lsd_day + (86400 - 1) * SEC
    confirm_hours = rng.gamma(2.0, 10.0, n)
    late_p = np.full(n, 0.005)
    if "late_shipping" in incidents:
        late_p[_active(incidents["late_shipping"], oday)] = 0.09
    late = rng.random(n) < late_p
    confirm_hours[late] = handling[late] * 24 + rng.uniform(2, 60, late.sum())
    confirm = purchase + (confirm_hours * 3600).astype(np.int64) * SEC
    shipped = ~cancelled

    # Tracking: a carrier that stops giving usable tracking drags VTR and OTD down.
    track_bad_p = np.full(n, 0.006)
    late_delivery_p = np.full(n, 0.04)
    if "carrier_tracking" in incidents:
        inc = incidents["carrier_tracking"]
        confirm_day = ((confirm - first) // DAY).astype(np.int64)
        hit = _active(inc, confirm_day) & (carriers == inc.target)
        track_bad_p[hit] = 0.55
        late_delivery_p[hit] = 0.45
    tracking_valid = rng.random(n) >= track_bad_p
    tracking_id = np.char.add(np.char.add(np.array(["1Z", "LX", "YT", "JD"])[rng.integers(0, 4, n)],
                                          rng.integers(10**8, 10**9, n).astype(str)), "")
    no_id = rng.random(n) < 0.002
    transit = rng.integers(2, 6, n)
    latest_delivery = lsd_day + (transit + 2) * DAY + (86400 - 1) * SEC
    late_deliv = rng.random(n) < late_delivery_p
    delivered = confirm + (transit * 86400 + rng.integers(0, 43200, n)) * SEC
    delivered[late_deliv] = latest_delivery[late_deliv] + rng.integers(3600, 5 * 86400, late_deliv.sum()) * SEC

    # Invoices for business buyers: uploaded within the business day, unless an upload job breaks.
    miss_p = np.full(n, 0.02)
    if "missed_invoices" in incidents:
        miss_p[_active(incidents["missed_invoices"], oday)] = 0.11
    missed_inv = rng.random(n) < miss_p
    invoice = confirm + rng.integers(600, 6 * 3600, n) * SEC
    invoice[missed_inv] = confirm[missed_inv] + rng.integers(4, 9, missed_inv.sum()) * DAY

    # Feedback, claims, chargebacks; a bad batch makes buyers of one category unhappy.
    neg_p = np.full(n, 0.0035)
    claim_p = np.full(n, 0.0012)
    if "bad_batch" in incidents:
        inc = incidents["bad_batch"]
        hit = _active(inc, oday) & (cats == inc.target)
        neg_p[hit] = 0.03
        claim_p[hit] = 0.014
    if "carrier_tracking" in incidents:
        claim_p[late_deliv] = 0.02
    fb = rng.random(n) < 0.09
    negative = rng.random(n) < neg_p
    fb |= negative
    rating = np.where(negative, rng.integers(1, 3, n), rng.choice([3, 4, 5, 5, 5, 5], n))
    fb_idx = np.flatnonzero(fb & shipped)
    fb_date = purchase[fb_idx] + rng.integers(4 * 86400, 35 * 86400, len(fb_idx)) * SEC
    fb_neg = rating[fb_idx] <= 2
    comments = np.where(fb_neg, np.array(COMMENTS_BAD)[rng.integers(0, len(COMMENTS_BAD), len(fb_idx))],
                        np.array(COMMENTS_GOOD)[rng.integers(0, len(COMMENTS_GOOD), len(fb_idx))])
    removed = fb_neg & (rng.random(len(fb_idx)) < 0.08)

    claim = rng.random(n) < claim_p
    if "two_claims" in incidents:
        inc = incidents["two_claims"]
        window = np.flatnonzero(_active(inc, oday) & shipped & ~claim)
        if len(window) >= 2:
            claim[rng.choice(window, 2, replace=False)] = True
    cl_idx = np.flatnonzero(claim)
    cl_date = purchase[cl_idx] + rng.integers(10 * 86400, 40 * 86400, len(cl_idx)) * SEC
    cl_status = rng.choice(["granted", "pending", "closed", "denied", "withdrawn"], len(cl_idx),
                           p=[0.45, 0.2, 0.15, 0.12, 0.08])
    if "two_claims" in incidents:
        cl_status[:] = "granted"
    cl_reason = np.array(CLAIM_REASONS)[rng.integers(0, len(CLAIM_REASONS), len(cl_idx))]

    cb_idx = np.flatnonzero(rng.random(n) < 0.0005)
    cb_date = purchase[cb_idx] + rng.integers(20 * 86400, 60 * 86400, len(cb_idx)) * SEC
    cb_kind = np.where(rng.random(len(cb_idx)) < 0.3, "fraud", "service")

    # Returns: answered within hours, unless the team falls behind.
    rt_idx = np.flatnonzero(shipped & (rng.random(n) < 0.035))
    rq = purchase[rt_idx] + rng.integers(3 * 86400, 25 * 86400, len(rt_idx)) * SEC
    rq_day = ((rq - first) // DAY).astype(np.int64)
    resp_hours = rng.gamma(2.0, 6.0, len(rt_idx))
    if "slow_returns" in incidents:
        slow = _active(incidents["slow_returns"], rq_day) & (rng.random(len(rt_idx)) < 0.35)
        resp_hours[slow] = rng.uniform(49, 120, slow.sum())
    resp = rq + (resp_hours * 3600).astype(np.int64) * SEC
    rejected = rng.random(len(rt_idx)) < 0.04
    rej_valid = np.where(rejected, rng.random(len(rt_idx)) < 0.7, False)
    neg_return = rng.random(len(rt_idx)) < 0.015

    refund = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    refunded = shipped & (rng.random(n) < 0.02)
    refund[refunded] = delivered[refunded] + rng.integers(86400, 10 * 86400, refunded.sum()) * SEC
    if len(rt_idx):
        refund[rt_idx[~rejected]] = resp[~rejected] + rng.integers(86400, 7 * 86400, (~rejected).sum()) * SEC

    # Nothing is known after the last day of data.
    end = first + days * DAY
    nat = np.datetime64("NaT")
    confirm = np.where(shipped & (confirm < end), confirm, nat)
    status = np.where(cancelled, "Cancelled", np.where(np.isnat(confirm), "Unshipped", "Shipped"))
    status = np.where(~mfn & ~cancelled, "Shipped", status)
    delivered = np.where(~np.isnat(confirm) & (delivered < end), delivered, nat)
    invoice = np.where(business & ~np.isnat(confirm) & (invoice < end), invoice, nat)
    refund = np.where(refund < end, refund, nat)
    ids = _order_ids(n, profile.account_id)
    orders = pd.DataFrame({
        "order_id": ids,
        "purchase_date": purchase,
        "fulfillment_channel": np.where(mfn, "MFN", "AFN"),
        "order_status": status,
        "buyer_requested_cancel": buyer_cancel,
        "latest_ship_date": np.where(mfn, latest_ship, nat),
        "ship_confirm_date": np.where(mfn, confirm, nat),
        "carrier": np.where(mfn & ~np.isnat(confirm), carriers, None),
        "tracking_id": np.where(mfn & ~np.isnat(confirm) & ~no_id, tracking_id, None),
        "tracking_valid": np.where(mfn & ~np.isnat(confirm), tracking_valid & ~no_id, None),
        "latest_delivery_date": np.where(mfn, latest_delivery, nat),
        "delivered_date": np.where(mfn, delivered, nat),
        "category": cats,
        "is_business_order": business,
        "invoice_upload_date": np.where(mfn, invoice, nat),
        "refund_date": refund,
    })
    keep_fb = fb_date < end
    # A removal takes Amazon about nine days; one not yet done by the end of the export has not happened.
    removed_on = fb_date + 9 * DAY
    removed = removed & (removed_on < end)
    feedback = pd.DataFrame({"order_id": ids[fb_idx], "feedback_date": fb_date, "rating": rating[fb_idx],
                             "comments": comments, "removed": removed,
                             "removed_date": np.where(removed, removed_on, nat)})[keep_fb]
    # Amazon decides a claim in about twelve days; one still open at the end of the export is pending.
    decided_on = cl_date + 12 * DAY
    cl_status = np.where(decided_on < end, cl_status, "pending")
    claims = pd.DataFrame({"order_id": ids[cl_idx], "claim_date": cl_date, "status": cl_status,
                           "reason": cl_reason,
                           "status_date": np.where(decided_on < end, decided_on, nat)})[cl_date < end]
    chargebacks = pd.DataFrame({"order_id": ids[cb_idx], "chargeback_date": cb_date, "kind": cb_kind})[cb_date < end]
    returns = pd.DataFrame({
        "return_id": np.char.add("R", (np.arange(len(rt_idx)) + 100000).astype(str)),
        "order_id": ids[rt_idx], "request_date": rq,
        "response_date": np.where(resp < end, resp, nat),
        "decision": np.where(resp < end, np.where(rejected, "rejected", "authorized"), ""),
        "rejection_valid": np.where(rejected, rej_valid, None),
        "negative_return_feedback": neg_return,
    })[rq < end]
    return {"orders": orders, "feedback": feedback, "claims": claims, "chargebacks": chargebacks,
            "returns": returns}


def _order_ids(n: int, account_id: str) -> np.ndarray:
    """Amazon-style ids (3-7-7 digits), unique within the account."""
    salt = sum(map(ord, account_id))
    i = np.arange(n, dtype=np.int64)
    a = (100 + (i * 7 + salt) % 900).astype(str)
    b = ((i * 7919 + salt * 31) % 9_000_000 + 1_000_000).astype(str)
    c = (i + 1_000_000).astype(str)
    return np.char.add(np.char.add(np.char.add(np.char.add(a, "-"), b), "-"), c)


DEADLINES = ("latest_ship_date", "latest_delivery_date")


def _csv_text(frame: pd.DataFrame) -> str:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            values = out[col].to_numpy(dtype="datetime64[s]")
            unit = "D" if col in DEADLINES else "s"  # deadlines as bare dates: the end of that day
            text = np.datetime_as_string(values, unit=unit)
            out[col] = np.where(np.isnat(values), "", text)
        elif out[col].dtype == bool or col in ("tracking_valid", "rejection_valid"):
            out[col] = out[col].map({True: "true", False: "false"}).fillna("")
    return out.to_csv(index=False)


def write_account(root: Path, profile: Profile, tables: dict[str, pd.DataFrame], fmt: str = "csv") -> Path:
    folder = root / profile.account_id
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / MARKER, "written by perfkit sample; perfkit sample --replace may regenerate it\n")
    meta = {"name": profile.name, "marketplace": profile.marketplace, "timezone": profile.timezone}
    atomic_write_text(folder / "account.json", json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
    for name, frame in tables.items():
        if fmt == "parquet":
            import io

            buf = io.BytesIO()
            frame.reset_index(drop=True).to_parquet(buf, index=False)
            atomic_write_bytes(folder / f"{name}.parquet", buf.getvalue())
        else:
            atomic_write_text(folder / f"{name}.csv", _csv_text(frame))
        # A regenerated folder (--replace) keeps no table of the other format beside the new one.
        (folder / f"{name}.{'csv' if fmt == 'parquet' else 'parquet'}").unlink(missing_ok=True)
    return folder


# Policy notices of the sample accounts: (days before the end, category, ASIN, text, status).
NOTICES = {
    "jp-tiny-shop": [
        (150, "productAuthenticityCustomerComplaints", "B0TINY0003", "Buyer doubted the item was genuine", "resolved"),
        (75, "listingPolicyViolations", "B0TINY0001", "Unrelated products merged into one variation family "
             "to share reviews", "appealed"),
        (40, "receivedIntellectualPropertyComplaints", "B0TINY0002", "Rights owner reported trademark use "
             "in the title", "open"),
    ],
    "de-shenzhen-elec": [
        (100, "productSafetyCustomerComplaints", "B0SZ00017", "Charger reported overheating", "resolved"),
    ],
}


def notices_table(profile: Profile, end_day: np.datetime64) -> pd.DataFrame:
    """The account's policy notices (an empty table for an account without any)."""
    rows = [{"notice_date": (end_day - np.timedelta64(ago, "D")).astype("datetime64[s]") + np.timedelta64(9, "h"),
             "category": cat, "asin": asin, "text": text, "status": status}
            for ago, cat, asin, text, status in NOTICES.get(profile.account_id, [])]
    return pd.DataFrame(rows, columns=["notice_date", "category", "asin", "text", "status"]).astype(
        {"notice_date": "datetime64[s]", "category": str, "asin": str, "text": str, "status": str})


def amazon_reports(profile: Profile, end_day: np.datetime64) -> dict[str, str]:
    """Seller Performance reports (V2 JSON) kept for the account with notices: file name -> text.

    Windows are written as Amazon writes them, as UTC instants of the marketplace's midnights.
    """
    notices = NOTICES.get(profile.account_id)
    if not notices:
        return {}
    offset = int(pd.Timestamp("2026-01-01").tz_localize(profile.timezone).utcoffset().total_seconds() // 3600)
    out = {}
    for ago, score, status in ((38, 240, "GOOD"), (8, 180, "AT_RISK")):
        last = end_day - np.timedelta64(ago, "D")
        first = last - np.timedelta64(179, "D")

        def instant(day: np.datetime64, end: bool) -> str:
            local = pd.Timestamp(str(day)) + (pd.Timedelta(hours=24) - pd.Timedelta(seconds=1) if end else pd.Timedelta(0))
            return (local - pd.Timedelta(hours=offset)).strftime("%Y-%m-%dT%H:%M:%SZ")

        rng = {"reportingDateFrom": instant(first, False), "reportingDateTo": instant(last, True)}
        counts: dict[str, int] = {}
        for n_ago, cat, *_ in notices:
            if ago < n_ago <= ago + 179:
                counts[cat] = counts.get(cat, 0) + 1
        entry = {"marketplaceId": MARKETPLACE_IDS.get(profile.marketplace, ""),
                 "accountHealthRating": {"ahrStatus": status, "ahrScore": score, "reportingDateRange": rng}}
        for cat in ("receivedIntellectualPropertyComplaints", "listingPolicyViolations",
                    "productAuthenticityCustomerComplaints", "productSafetyCustomerComplaints"):
            entry[cat] = {"reportingDateRange": rng, "status": "NONE" if counts.get(cat) else "GOOD",
                          "targetValue": 0, "targetCondition": "LESS_THAN_OR_EQUAL_TO",
                          "defectsCount": counts.get(cat, 0)}
        out[f"{last}.json"] = json.dumps({"performanceMetrics": [entry]}, indent=1) + "\n"
    return out


MARKETPLACE_IDS = {"US": "ATVPDKIKX0DER", "UK": "A1F83G8C2ARO7P", "DE": "A1PA6795UKMFR9", "JP": "A1VC38T7YXB528"}


MARKER = ".perfkit-sample"  # in every folder perfkit sample wrote: only those may be replaced


def refuse_existing(root: Path, names: list[str], replace: bool) -> None:
    """Before anything is written: an existing folder of a sample account's name is refused, unless
    ``replace`` is given and the folder is one perfkit sample wrote (it holds the marker file)."""
    taken = [n for n in names if (root / n).exists() or (root / n).is_symlink()]
    foreign = [n for n in taken if not (root / n / MARKER).is_file()]
    if foreign or (taken and not replace):
        named = foreign or taken
        shown = ", ".join(named[:5]) + (f" (+{len(named) - 5} more)" if len(named) > 5 else "")
        why = ("not written by perfkit sample, so never replaced" if foreign
               else "written by perfkit sample; add --replace to regenerate them")
        raise PerfkitError(f"{root}: account folders {shown} already exist ({why}); choose an empty folder")


def generate(out_dir: str | Path, accounts: int = 5, days: int = 190, seed: int = 7,
             end: str | None = None, fmt: str = "csv", daily_orders: float | None = None,
             replace: bool = False) -> list[Path]:
    """Write ``accounts`` sample accounts of ``days`` days ending the day before ``end``; an
    existing account folder is refused (see :func:`refuse_existing`)."""
    root = Path(out_dir)
    end_day = np.datetime64(end or "2026-11-16", "D")
    start = str(end_day - days)
    rng = np.random.default_rng(seed)
    written = []
    profiles = _profiles_for(accounts, days, rng, daily_orders)
    refuse_existing(root, [p.account_id for p in profiles], replace)
    root.mkdir(parents=True, exist_ok=True)
    for profile in profiles:
        tables = generate_account(profile, start, days, seed)
        tables["policy_notices"] = notices_table(profile, end_day)
        folder = write_account(root, profile, tables, fmt)
        for name, text in amazon_reports(profile, end_day).items():
            atomic_write_text(folder / "amazon-performance" / name, text)
        written.append(folder)
    return written
