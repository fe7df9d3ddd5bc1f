"""Plausibility of loaded rows: what cannot be true is refused or said, never read in silence.

Rows of one order that disagree on an order-level column are an error; dates later than the
run are left out (a row's own date) or read as missing (other times), with a warning naming
the rows; shipping or delivery before purchase is kept as given and warned about.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from perfkit.core.errors import DataError
from perfkit.core.notes import Note
from perfkit.core.policy import Policy
from perfkit.core.notes import rows as note_rows
from perfkit.loading.schema import ITEM_RULES, TABLES


# Order-level columns: rows of one order that disagree on them describe two different orders.
ORDER_LEVEL = ("purchase_date", "fulfillment_channel", "order_status")


def refuse_conflicts(rows: pd.DataFrame, merged: pd.DataFrame, codes: np.ndarray) -> None:
    """Rows of one order that disagree on an order-level column: a data error naming them both."""
    for name in ORDER_LEVEL:
        if name not in rows.columns:
            continue
        mine = rows[name]
        first = merged[name].to_numpy()[codes]
        differ = mine.notna().to_numpy() & pd.notna(first) & (mine.astype(object).to_numpy() != first)
        if differ.any():
            i = int(np.flatnonzero(differ)[0])
            same = np.flatnonzero(codes == codes[i])
            shown = [f"{rows['_file'].iat[j]} row {rows['_row'].iat[j]}: {rows[name].iat[j]}" for j in same[:4]]
            raise DataError(str(rows["_file"].iat[i]), f"rows of order {rows['order_id'].iat[i]} disagree "
                            f"({'; '.join(shown)}); conflicting rows in all: {int(differ.sum())}", column=name,
                            rows=[int(rows["_row"].iat[j]) for j in same[:4]],
                            expected="one value per order (item rows repeat it): fix or remove the wrong row")


def resolve_item_rows(rows: pd.DataFrame, merged: pd.DataFrame, codes: np.ndarray, warnings: list[str],
                      tz: str = "UTC") -> None:
    """Item rows of one order that disagree on a column a metric reads: the order takes the value
    schema.ITEM_RULES gives (never the first row's), said with the rows (times in the account's
    zone ``tz``, as the seller's own exports write them); ``merged`` in place."""
    dup = pd.Series(codes).duplicated(keep=False).to_numpy()
    sub, groups = rows[dup], codes[dup]
    for name, how in ITEM_RULES.items():
        if name not in rows.columns:
            continue
        values = sub[name]
        grouped = values.groupby(groups)
        differ = grouped.nunique() > 1
        if not differ.any():
            continue
        pick = grouped.min() if how == "min" else grouped.max()
        picked = pick[differ]
        merged.loc[picked.index, name] = picked.to_numpy()
        bad = np.isin(groups, picked.index.to_numpy())
        files = ", ".join(dict.fromkeys(str(f) for f in sub.loc[bad, "_file"]))
        first = int(picked.index[0])
        mine = values[groups == first].dropna()
        if isinstance(mine.dtype, pd.DatetimeTZDtype):
            mine = mine.dt.tz_convert(tz)
        shown = ", ".join(str(v) for v in mine)
        warnings.append(Note("item_rows_disagree", files=files, **note_rows(sorted(sub.loc[bad, "_row"].tolist())),
                             column=name, n=int(differ.sum()), order=str(sub["order_id"][groups == first].iat[0]),
                             shown=shown, rule=Note(f"item_rule.{name}")))


def without_future(table: str, frame: pd.DataFrame, now: pd.Timestamp, warnings: list[str],
                   tz: str = "UTC") -> pd.DataFrame:
    """Dates later than this run cannot have happened: a row whose own date (purchase, feedback,
    claim, ...) is in the future is left out, other future times read as missing; both are said,
    naming the rows (times in the account's zone ``tz``, as for item rows), and neither moves the
    default as-of day."""
    drop = np.zeros(len(frame), bool)
    for name, col in TABLES[table].items():
        if col.kind != "datetime" or name not in frame.columns:
            continue
        ahead = (frame[name] > now).to_numpy()
        if not ahead.any():
            continue
        where = note_rows(frame["_row"].to_numpy()[ahead].tolist())
        shown = frame.loc[ahead, name].head(2)
        if isinstance(shown.dtype, pd.DatetimeTZDtype):
            shown = shown.dt.tz_convert(tz)
        found = ", ".join(str(v) for v in shown)
        if col.required:
            drop |= ahead
            warnings.append(Note("future_left_out", file=str(frame["_file"].iat[0]), **where, column=name, found=found))
        else:
            frame[name] = frame[name].mask(ahead)
            warnings.append(Note("future_missing", file=str(frame["_file"].iat[0]), **where, column=name, found=found))
    return frame[~drop] if drop.any() else frame


# Times that cannot come before another time of the same order: (column, the one it follows, what that is).
ORDER_SEQUENCE = (("ship_confirm_date", "purchase_date", "the_purchase_date"),
                  ("delivered_date", "purchase_date", "the_purchase_date"),
                  ("latest_ship_date", "purchase_date", "the_purchase_date"),
                  ("latest_delivery_date", "purchase_date", "the_purchase_date"),
                  ("delivered_date", "ship_confirm_date", "the_ship_confirmation"))
# Each event table's own date, which cannot come before its order's purchase.
EVENT_DATES = {"feedback": "feedback_date", "claims": "claim_date", "chargebacks": "chargeback_date",
               "returns": "request_date"}


def check_order_times(orders: pd.DataFrame, warnings: list[str]) -> None:
    """Shipped, delivered or due before it was bought, delivered before it shipped: kept as given,
    said with the rows."""
    for name, after, what in ORDER_SEQUENCE:
        if name not in orders.columns or after not in orders.columns:
            continue
        early = (orders[name] < orders[after]).fillna(False).to_numpy(dtype=bool)
        if early.any():
            files = ", ".join(dict.fromkeys(str(f) for f in orders.loc[early, "_file"]))
            warnings.append(Note("order_time_early", files=files, **note_rows(orders.loc[early, "_row"].tolist()),
                                 column=name, what=Note(what), order=str(orders.loc[early, "order_id"].iat[0])))


def check_event_times(table: str, frame: pd.DataFrame, orders: pd.DataFrame, warnings: list[str]) -> None:
    """A feedback, claim, chargeback or return dated before its order was bought: kept as given
    (it counts from the order's own days on, as any event), said with the rows."""
    name = EVENT_DATES.get(table)
    if name is None or not len(frame) or name not in frame.columns:
        return
    pos = frame["_order"].to_numpy()
    known = pos >= 0
    bought = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[ns]")
    bought[known] = orders["purchase_date"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()[pos[known]]
    own = frame[name].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy() if frame[name].dt.tz is not None \
        else frame[name].to_numpy()
    early = known & ~np.isnat(own) & (own < bought)
    if early.any():
        files = ", ".join(dict.fromkeys(str(f) for f in frame.loc[early, "_file"]))
        warnings.append(Note("event_time_early", files=files, **note_rows(frame.loc[early, "_row"].tolist()),
                             column=name, order=str(frame.loc[early, "order_id"].iat[0])))


def lookahead_notes(feedback: pd.DataFrame, claims: pd.DataFrame, warnings: list[str], policy: Policy) -> None:
    """Say once when events carry an outcome without its date: perfkit must then apply the outcome
    to every past day too (a look-ahead the docs describe)."""
    undated = feedback["removed"].to_numpy(bool) & feedback["removed_date"].isna().to_numpy()
    if undated.any():
        warnings.append(Note("removed_undated", n=int(undated.sum())))
    # The decided statuses that do not count (the policy's): from their date on, not from the filing.
    uncounted = sorted(policy.claim_statuses_not_counted)
    decided = claims["status"].isin(uncounted).to_numpy(bool) & claims["status_date"].isna().to_numpy()
    if decided.any():
        warnings.append(Note("decided_undated", n=int(decided.sum()), statuses_or=uncounted))


def claim_statuses(claims: pd.DataFrame, policy: Policy, warnings: list[str]) -> pd.DataFrame:
    """Claim statuses read onto the known ones: another spelling of a known status (Seller
    Central's wording, Chinese) is that status; an unknown one is kept, named in a warning that
    says how it is counted. Both lists are policy data ([counting.claim_statuses])."""
    if not len(claims):
        return claims
    status = claims["status"]
    spelled = status.map(policy.claim_status_spellings)
    if spelled.notna().any():
        claims = claims.assign(status=spelled.fillna(status).astype("string"))
    unknown = claims["status"].notna() & ~claims["status"].isin(list(policy.claim_statuses_known))
    if unknown.any():
        files = ", ".join(dict.fromkeys(str(f) for f in claims.loc[unknown, "_file"]))
        found = ", ".join(repr(s) for s in dict.fromkeys(claims.loc[unknown, "status"]))
        counted = [s for s in dict.fromkeys(claims.loc[unknown, "status"]) if s not in policy.claim_statuses_not_counted]
        warnings.append(Note("unknown_claim_status", files=files, **note_rows(claims.loc[unknown, "_row"].tolist()),
                             found=found, how=Note("claim_counted" if counted else "claim_not_counted"),
                             known=", ".join(sorted(policy.claim_statuses_known))))
    return claims
