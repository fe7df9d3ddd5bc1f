"""The engine: every metric declared once, counted for every day.

``registry`` declares each metric (its counting rule, inputs, segments, where Amazon reports
it) and checks the policy against those declarations (``load_policy``); ``rules`` turn an
account's tables into units and defects, ``units`` and ``dates`` hold the day arithmetic,
``metrics`` applies the windows and judges each value against its target, and ``context``
binds an account to its policy and day tables so work is done once. It may import
:mod:`perfkit.core` and :mod:`perfkit.loading`, never the analyses, views or edges above.
"""
