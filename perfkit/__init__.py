"""perfkit: keep Amazon seller accounts out of trouble.

The public API, as the notebooks use it::

    import perfkit as pk
    acc = pk.load_account("data/sample/us-summit-outdoor")
    series = pk.account_series(acc, start="2026-08-01", end="2026-11-15")   # tidy daily series
    bad = pk.defective_units(acc, "valid_tracking_rate", "2026-11-15")     # the drill-down
    pk.recovery_forecast(acc, "valid_tracking_rate").describe()

Each of these takes an account, a folder or an :class:`AccountContext` (an account with its
policy and day tables, built once: ``pk.AccountContext.of(acc)``) and reuses a context's work.
"""
from perfkit.engine.context import AccountContext
from perfkit.analysis.drilldown import defective_units, window_drivers, window_units
from perfkit.core.errors import DataError, PerfkitError
from perfkit.analysis.forecast import Recovery, recovery_forecast
from perfkit.core.account import Account, Portfolio
from perfkit.loading.loader import load_account, load_accounts
from perfkit.engine.metrics import COLUMNS, account_series
from perfkit.core.policy import Policy
from perfkit.engine.registry import load_policy
from perfkit.analysis.portfolio import portfolio_series

from perfkit.core import __version__

__all__ = [
    "Account", "AccountContext", "COLUMNS", "DataError", "PerfkitError", "Policy", "Portfolio", "Recovery",
    "account_series", "defective_units", "load_account", "load_accounts", "load_policy", "portfolio_series",
    "recovery_forecast", "window_drivers", "window_units", "__version__",
]
