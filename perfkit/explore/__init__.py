"""The explorer: the JupyterLab (and Voila) widget analysts work in.

One state that every tab follows (``state``), the status, chart, drill-down and all-charts
views (``views``), the root-causes and POA tabs (``causes``) and the widget that lays them out
(``widget``: ``Explorer``). It is an edge: it may import every layer below it (core to poa and
:mod:`perfkit.config`), and nothing imports it but the notebook.
"""
