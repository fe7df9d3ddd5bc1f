"""Analysis: the questions an analyst asks after a value, answered from the engine's counts.

The orders behind a value (``drilldown``), when a breach will recover (``forecast``), Amazon's
own Seller Performance report read, checked and compared with ours (``health``,
``reconcile``), policy-compliance notices counted (``compliance``) and the series of many
accounts at once (``portfolio``). It may import :mod:`perfkit.core`, :mod:`perfkit.loading`
and :mod:`perfkit.engine`; it draws nothing and writes no page.
"""
