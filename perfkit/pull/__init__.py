"""Pulling Amazon's reports into the account folders (``perfkit pull``): an edge, like explore/ and
report/, beside them in the layers.

``catalogue`` (which reports, as data in ``amazon.toml``), ``agency`` (the agency's config file:
accounts, LWA credentials, alert channels; refused when others can read it), ``client`` (the
Reports API through Amazon's own SDK, ``amzn-sp-api``, with backoff and token refresh), ``files``
(downloads merged into the files perfkit reads, written atomically, never over a file it did not
write), ``run`` (one account's pull, incremental and resumable). It may import core/ and
loading/ (and the layers below the edges); nothing but cli/ imports it.
"""
