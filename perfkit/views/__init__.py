"""Views: what a person reads, shared by the explorer, the weekly report and the POA.

Labels in English and Chinese (``labels``), the status table and why a value is at risk
(``status``), the rate charts (``charts``), figures shown the same way in JupyterLab and in
exported HTML (``figures``) and the account-health table (``health``). It may import every
layer below (core, loading, engine, analysis), never the POA, the explorer or the report.
"""
