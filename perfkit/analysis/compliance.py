"""Policy compliance from the seller's own notices: counts per category over Amazon's look-back window.

``policy_notices.csv`` lists the notices Amazon sent (intellectual-property complaints, listing or
variation violations, ...): date, category, ASIN, text, status. For every as-of day perfkit counts,
per category, the notices dated within the look-back window (``[compliance] lookback_days`` of the
policy, 180 by default) and the open ones among them (open or appealed). Every category's target
is zero: an open notice is a breach; notices in the window that are all resolved still count in
Amazon's look-back, so they are "at risk"; none is "ok". Without a notices file there is no count
(``no_data``); Amazon's own counts then come from kept reports (:mod:`perfkit.analysis.health`).

A notice's status is as the file gives it today (the file has no resolution date), so a past
day shows a notice that was open then and resolved since as resolved.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from perfkit.engine.context import AccountContext
from perfkit.engine.dates import local_days
from perfkit.loading.schema import POLICY_CATEGORIES

OPEN = ("open", "appealed")
COLUMNS = ["as_of", "category", "notices", "open", "status"]


def notice_counts(ctx: AccountContext, days: Iterable[int]) -> pd.DataFrame:
    """Per as-of day (day numbers) and category: notices in the look-back window, open ones, status.

    Parameters
    ----------
    ctx : AccountContext
        The account (its ``policy_notices`` table) and policy (the look-back window).
    days : iterable of int
        The as-of days.

    Returns
    -------
    DataFrame
        ``as_of`` (date), ``category`` (Amazon's key), ``notices``, ``open`` and ``status`` (ok,
        at_risk, breach; no_data for every category when the account has no notices file), one
        row per day and category of :data:`perfkit.loading.schema.POLICY_CATEGORIES`.
    """
    days = np.asarray(list(days), dtype=np.int64)
    notices = ctx.account.policy_notices
    lookback = ctx.policy.notice_lookback_days
    when = local_days(notices["notice_date"], ctx.account.timezone)
    is_open = notices["status"].isin(list(OPEN)).to_numpy(bool)
    category = notices["category"].astype(str).to_numpy()
    # Notices are few: one comparison per day and notice is cheaper than anything clever.
    inside = (when[None, :] <= days[:, None]) & (when[None, :] > days[:, None] - lookback)
    frames = []
    supplied = ctx.account.has("policy_notices")
    for key in POLICY_CATEGORIES:
        mine = category == key
        total = (inside & mine).sum(axis=1)
        still = (inside & mine & is_open).sum(axis=1)
        status = np.where(still > 0, "breach", np.where(total > 0, "at_risk", "ok")) if supplied else "no_data"
        frames.append(pd.DataFrame({"as_of": days.astype("datetime64[D]").astype(object), "category": key,
                                    "notices": total, "open": still, "status": status}))
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def worst_status(counts: pd.DataFrame) -> str:
    """The worst status of a day's categories (breach > at_risk > ok > no_data)."""
    for status in ("breach", "at_risk", "ok"):
        if (counts["status"] == status).any():
            return status
    return "no_data"
