"""Every account under a data root at once: one independent job per account.

Accounts are the unit of parallel work (local processes or a Dask cluster, see
:mod:`perfkit.core.cluster`). A failing account is reported with its reason; the others finish.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from perfkit.engine import registry
from perfkit.engine.context import AccountContext
from perfkit.core.errors import explain
from perfkit.loading.loader import load_account, select_account_dirs
from perfkit.engine.metrics import COLUMNS, account_series

Job = tuple[str, pd.DataFrame | None, str | None, list[str]]


def _account_job(folder: str, prune: bool = False, policy=None, **kwargs) -> Job:
    """Load and compute one account: (name, series, failure, loading warnings); never raises for bad input."""
    name = Path(folder).name
    try:
        columns = tables = None
        if prune and kwargs.get("metrics"):
            columns, tables = registry.reads(kwargs["metrics"])
        policy = registry.resolve_policy(policy)
        account = load_account(folder, columns=columns, tables=tables, policy=policy)
        ctx = AccountContext.of(account, policy)
        values = account_series(ctx, **kwargs)
        return name, values, None, registry.account_notes(account) + beyond_data(ctx, values)
    except Exception as exc:  # any failure of one account is that account's, never the batch's
        return name, None, explain(exc), []


def beyond_data(ctx: AccountContext, values: pd.DataFrame) -> list[str]:
    """A note when values were asked for after the account's last day of data (they count no
    new orders there, so a low rate there means nothing)."""
    last = ctx.last_day
    if last is None or not len(values):
        return []
    latest = pd.Timestamp(max(values["as_of"]))
    if latest <= last:
        return []
    return [f"as-of {latest.date()} is after the last day of data ({last.date()}): "
            "values after that day count no new orders; check the export is complete"]


def _folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file())


def portfolio_series(root: str | Path, accounts: Sequence[str] | None = None, *, scheduler: str | None = None,
                     jobs: int = 1, prune: bool = False, **kwargs) -> tuple[pd.DataFrame, dict[str, str]]:
    """:func:`~perfkit.engine.metrics.account_series` for every account under a data root.

    Parameters
    ----------
    root : str or Path
        The data root, one folder per account.
    accounts : sequence of str, optional
        Only these accounts (unknown ids are refused).
    scheduler : str, optional
        A Dask scheduler address; its workers must see ``root`` at the same path.
    jobs : int
        Local processes when no scheduler is given.
    prune : bool
        With ``metrics=``, read only the columns those metrics need.
    **kwargs
        Passed to :func:`~perfkit.engine.metrics.account_series` (``as_of``, ``start``, ``end``,
        ``policy``, ``metrics``, ``early``).

    Returns
    -------
    (DataFrame, dict)
        Every account's series (loading warnings in ``attrs["warnings"]``) and the failed
        accounts with their one-line reasons.
    """
    from perfkit.core.cluster import map_accounts

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
