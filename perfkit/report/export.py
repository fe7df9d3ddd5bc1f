"""The executed report notebook as the page management opens: HTML without code or prompts,
plotly.js from the page's head, and the account's index row read back from the notebook."""
from __future__ import annotations

import functools
import json
from pathlib import Path

from perfkit.views.labels import t

ROW_MIME = "application/vnd.perfkit.index-row+json"  # the report notebook's index row (not shown)
ROW_TAG = "index-row"


def plotly_head(mode: str) -> str:
    """The <script> that gives a page plotly.js: inline, or the file written beside it."""
    if mode == "inline":
        from plotly.offline import get_plotlyjs

        return f'<script type="text/javascript">{get_plotlyjs()}</script>'
    return '<script type="text/javascript" src="plotly.min.js" charset="utf-8"></script>'


# What nbconvert's HTML page shows before text/html when an output has it too (its display priority).
_BEFORE_HTML = ("application/vnd.jupyter.widget-view+json", "application/javascript")


def _html_outputs_only(nb) -> bool:
    """Whether every cell is code and every output shows as text/html without an image in it (a
    report notebook's; the index row's cell is left out of the page): the page then needs nothing
    of nbconvert's last pass (``tabindex`` on outputs, ``alt`` on images) that the template does
    not write itself."""
    def shown_as_html(o) -> bool:
        data = o.get("data", {})
        html = data.get("text/html")
        return (html is not None and not any(m in data for m in _BEFORE_HTML)
                and "<img" not in ("".join(html) if isinstance(html, list) else str(html)).lower())

    return all(c.cell_type == "code" and all(shown_as_html(o) for o in c.get("outputs", []))
               for c in nb.cells if ROW_TAG not in c.get("metadata", {}).get("tags", []))


@functools.lru_cache(maxsize=1)
def _exporter():
    """One HTML exporter per worker process: its template is compiled once, not once per account."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
    from nbconvert.preprocessors import TagRemovePreprocessor

    class PageExporter(HTMLExporter):
        """nbconvert's HTML exporter, without its last pass when the page has only HTML outputs.

        That pass parses the whole page with BeautifulSoup to add ``tabindex="0"`` to each output
        and input and ``alt`` to images, then writes it out again: about 25 ms of a 300 KB report
        page, two thirds of its export. A report page has no input, image or markdown, and the
        template writes the outputs' ``tabindex`` itself; any other notebook takes nbconvert's
        path unchanged. Tests hold the two pages to be the same document.
        """

        def from_notebook_node(self, nb, resources=None, **kw):
            if not _html_outputs_only(nb):
                return super().from_notebook_node(nb, resources, **kw)
            # HTMLExporter.from_notebook_node up to its BeautifulSoup pass (nbconvert 7.17).
            lang = nb.metadata.get("language_info", {})
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lang.get("pygments_lexer", lang.get("name")), parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    # optimistic_validation: the notebook is validated once, after the preprocessors, not after each
    # of its 13 (papermill has just written and validated it).
    exporter = PageExporter(template_name="perfkit_report", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, optimistic_validation=True,
                            extra_template_basedirs=[str(Path(__file__).parent / "templates")])
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={ROW_TAG}), enabled=True)
    return exporter


def _notebook(notebook: Path | object):
    """A notebook node, read from its path if given one."""
    import nbformat

    return nbformat.read(notebook, as_version=4) if isinstance(notebook, (str, Path)) else notebook


def export_html(notebook: Path | object, head: str, lang: str = "en") -> str:
    """The executed notebook (a path or the node papermill returned) as a page without code,
    prompts or network fetches, its <title> in ``lang``."""
    nb = _notebook(notebook)
    nb.metadata["title"] = t("page_title", lang)  # nbconvert's <title>; the notebook's own is English (already saved)
    body, _ = _exporter().from_notebook_node(nb, resources={"perfkit_head": head})  # it copies the node
    return body


def index_row(notebook: Path | object) -> dict:
    """The index row the executed notebook (a path or a node) displayed (under :data:`ROW_MIME`);
    empty if none."""
    for cell in _notebook(notebook).cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if ROW_MIME in data:
                row = data[ROW_MIME]
                return json.loads(row) if isinstance(row, str) else dict(row)
    return {}
