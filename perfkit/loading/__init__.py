"""Loading: from an account folder's files to typed tables, or one clear line saying why not.

Reading files (CSV/TSV/Parquet, any encoding :mod:`perfkit.core.encodings` accepts),
recognising Amazon's own downloads and ERP exports (``formats``, ``sources``), the columns
and values each table may hold (``schema``), converting cells (``converting``), order-id
matching (``idmatch``), plausibility checks (``plausible``), the parsed-account cache
(``cache``), the assembling step (``loader``: ``load_account``) and the sample accounts
(``sample``). It may import :mod:`perfkit.core` only: loading knows files, not metrics.
"""
