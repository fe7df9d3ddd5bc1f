"""The bottom layer: what every other layer needs, and nothing that needs them.

It holds the types that travel through perfkit (an :class:`~perfkit.core.account.Account`
with its tables, the :class:`~perfkit.core.policy.Policy` read from ``policy.toml``), the
user-facing errors and their one-line explanations, atomic file writes, wall-clock/UTC time
zone conversion, the decision of which text encoding a file is in, and the worker pool that
runs one task per account (local processes or Dask). Modules here import only the standard
library, NumPy, pandas and pyarrow, and each other: never another perfkit layer.
"""

__version__ = "0.1.0"  # as pyproject.toml says (a test holds the two equal); perfkit.__version__
