"""The weekly report: one page per account, the batch that renders them, and the index.

``page`` is what the report notebook shows for one account (``AccountReport``), ``batch``
runs that notebook once per account with papermill, exports HTML without code and writes the
portfolio index (``templates/``). It is an edge: it may import every layer below it (core to
poa and :mod:`perfkit.config`); only the command line imports it.
"""
