"""An account with everything computed once for it: the resolved policy and its day tables.

The edges (the CLI, the explorer, the report, the public API) build one
:class:`AccountContext` per account and pass it down; nothing below them resolves a policy,
rebuilds day tables or validates a metric name again.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from perfkit.engine import registry
from perfkit.engine.dates import NEVER, as_of_days, last_data_day, last_order_day
from perfkit.core.errors import PerfkitError
from perfkit.core.account import Account
from perfkit.loading.loader import load_account
from perfkit.core.policy import MetricPolicy, Policy
from perfkit.engine.registry import resolve_policy
from perfkit.engine.units import AccountDays, Units


@dataclass(eq=False)
class AccountContext:
    """An account, its policy and its day numbers (see the module docstring).

    Parameters
    ----------
    account : Account
        The loaded account.
    policy : Policy
        The resolved policy every value of this context is judged by.
    days : AccountDays
        The account's dates as day numbers and the units of every metric asked for so far.
    """

    account: Account
    policy: Policy
    days: AccountDays

    @classmethod
    def of(cls, source: AccountContext | Account | str | Path,
           policy: Policy | str | Path | None = None) -> AccountContext:
        """A context from an account, an account folder or a context (returned as it is).

        Parameters
        ----------
        source : AccountContext, Account, str or Path
            What to build the context from; a folder is loaded.
        policy : Policy, str or Path, optional
            The policy (default: perfkit's). A context keeps its own: giving another is an error.
        """
        if isinstance(source, AccountContext):
            if policy is not None and resolve_policy(policy).for_marketplace(source.account.marketplace) != source.policy:
                raise PerfkitError("this account context was built with another policy; build a new one")
            return source
        whole = resolve_policy(policy)
        # A folder is read by the policy's loading rules too (claim spellings, encodings).
        account = source if isinstance(source, Account) else load_account(source, policy=whole)
        # Every value of the account is judged as its marketplace judges it (enforced, advisory or absent).
        pol = whole.for_marketplace(account.marketplace)
        return cls(account, pol, AccountDays.build(account, pol))

    @property
    def account_id(self) -> str:
        return self.account.account_id

    @functools.cached_property
    def last_day(self) -> pd.Timestamp | None:
        """The account's own data day: its last local day with orders (None without dated orders);
        every default as-of day is this one."""
        return last_order_day(self.account)

    @functools.cached_property
    def last_event_day(self) -> pd.Timestamp | None:
        """The last local day of any event (a late chargeback included): said, never the default."""
        return last_data_day(self.account)

    @functools.cached_property
    def purchase_span(self) -> tuple[int, int] | None:
        """The first and last local purchase day (day numbers) of the loaded orders."""
        days = self.days.orders["purchase_date"]
        days = days[days < NEVER]
        return (int(days.min()), int(days.max())) if len(days) else None

    def metric(self, metric_id: str, *, targeted: bool = False) -> MetricPolicy:
        """The policy of a metric, validated: an unknown id (or, with ``targeted``, one without a
        target) is a user error listing the choices."""
        if metric_id in self.policy.not_applicable:
            raise PerfkitError(f"{metric_id}: Amazon does not compute it in marketplace {self.policy.marketplace} "
                               f"({self.account_id}); choose another metric")
        if metric_id not in self.policy.metrics:
            raise PerfkitError(f"unknown metric {metric_id!r}; choose from {', '.join(self.policy.metrics)}")
        mp = self.policy[metric_id]
        if targeted and (mp.target == "info" or mp.maturing):
            choices = [m for m, p in self.policy.metrics.items() if p.target != "info" and not p.maturing]
            raise PerfkitError(f"{metric_id} has no target of its own; choose from {', '.join(choices)}")
        return mp

    def units(self, mp: MetricPolicy) -> Units:
        """The units of a metric (built once per context)."""
        return registry.build_units(self.days, registry.get(mp.id), mp)

    def missing_inputs(self, metric_id: str) -> list[str]:
        """The inputs a metric needs that this account did not supply."""
        return [i for i in registry.inputs(metric_id) if not self.account.has(i)]

    def day(self, as_of: object = None) -> int:
        """An as-of day as a day number (default: the last day of data)."""
        return int(as_of_days(self.account, None if as_of is None else [as_of])[0])
