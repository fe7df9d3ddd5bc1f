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
from .context import AccountContext
from .drilldown import defective_units, window_drivers, window_units
from .errors import DataError, PerfkitError
from .forecast import Recovery, recovery_forecast
from .loaders import Account, Portfolio, load_account, load_accounts
from .metrics import COLUMNS, account_series
from .policy import Policy, load_policy
from .portfolio import portfolio_series

__version__ = "0.1.0"

__all__ = [
    "Account", "AccountContext", "COLUMNS", "DataError", "PerfkitError", "Policy", "Portfolio", "Recovery",
    "account_series", "defective_units", "load_account", "load_accounts", "load_policy", "portfolio_series",
    "recovery_forecast", "window_drivers", "window_units",
]
