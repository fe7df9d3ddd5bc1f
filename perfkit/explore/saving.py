"""What JupyterLab saves of the explorer's working copy (``make lab``'s pre-save hook).

A saved widget output names a widget model that lives only in the kernel that drew it: opened
again later, JupyterLab shows "model not found" where the explorer was. The hook saves a line
saying how to open the explorer again instead; the other outputs are kept as they are.
"""
from __future__ import annotations

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
REOPEN = "The explorer ran here. Run > Run All Cells opens it again (a widget cannot outlive its kernel)."


def without_widget_views(model: dict, **_: object) -> None:
    """Replace each widget output of a notebook ``model`` about to be saved with :data:`REOPEN`."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    for cell in model["content"].get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data")
            if isinstance(data, dict) and WIDGET_VIEW in data:
                output["data"] = {"text/plain": REOPEN}
