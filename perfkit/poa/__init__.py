"""The Plan of Action: root causes from each defect's own evidence, and the letter drafted from them.

The cause catalogue and the analysts' recorded causes (``causes``, stored in SQLite), the
declared test that makes each cause apply to one defective unit (``evidence``), what Amazon
counts and whether a letter is due (``facts``), buyer text made inert (``safe``), the actions,
measures and documents Amazon accepts per metric (``actions``), the letter for a rate (``draft``)
and for a policy category (``policy``). It may import every layer up to :mod:`perfkit.views`;
the explorer, the report and the command line use it.
"""
