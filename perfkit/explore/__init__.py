"""The explorer: the JupyterLab (and Voila) widget analysts work in.

One state that every tab follows (``state``), the status, drill-down and loading-notes views
(``views``), the clickable chart and the all-charts panel (``charts``), the root-causes and POA
tabs (``causes``), the widget that lays them out (``widget``: ``Explorer``) and what JupyterLab
saves of the working copy (``saving``). It is an edge: it may import every layer below it (core to poa and
:mod:`perfkit.config`), and nothing imports it but the notebook.
"""
