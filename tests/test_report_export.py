"""The page exporter: without nbconvert's last BeautifulSoup pass for a page of HTML outputs, the
same document that pass makes; any other notebook goes through nbconvert unchanged."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

import perfkit.report.export as export


def _nbconvert() -> HTMLExporter:
    """The exporter as nbconvert gives it (its BeautifulSoup pass included), with the page's template."""
    ex = HTMLExporter(template_name="perfkit_report", exclude_input=True, exclude_input_prompt=True,
                      exclude_output_prompt=True,
                      extra_template_basedirs=[str(Path(export.__file__).parent / "templates")])
    ex.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={export.ROW_TAG}), enabled=True)
    return ex


def _html(text: str) -> dict:
    return nbformat.v4.new_output("display_data", data={"text/html": text, "text/plain": "<HTML>"})


def _page_notebook(*extra) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    table = "<h2>Status</h2><table class='pk-table'><tr><td>ODR &lt;1%</td><td><br>0.5%</td></tr></table>"
    chart = '<div id="c1" class="plotly-graph-div"></div><script>Plotly.newPlot("c1", [{"x": [1, 2]}], {})</script>'
    nb.cells = [nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("show()", outputs=[_html(table), _html(chart)]),
                nbformat.v4.new_code_cell("row()", metadata={"tags": [export.ROW_TAG]}, outputs=[
                    nbformat.v4.new_output("display_data", data={export.ROW_MIME: {"_name": "A"}})]), *extra]
    nb.metadata["title"] = "t"
    return nb


def test_a_page_of_html_outputs_is_the_document_nbconverts_last_pass_makes():
    nb = _page_notebook()
    assert export._html_outputs_only(nb)
    ours, _ = export._exporter().from_notebook_node(nb, resources={"perfkit_head": ""})
    theirs, _ = _nbconvert().from_notebook_node(nb, resources={"perfkit_head": ""})
    assert ours != theirs  # not the pass's own serialisation: it was skipped
    assert str(BeautifulSoup(ours, features="html.parser")) == theirs
    soup = BeautifulSoup(ours, features="html.parser")
    outputs = soup.select(".jp-Notebook div.jp-OutputArea-output")
    assert len(outputs) == 2 and all(o.get("tabindex") == "0" for o in outputs)
    assert "_name" not in ours  # the index row's cell is not on the page


def test_a_notebook_with_an_image_or_markdown_goes_through_nbconvert_unchanged():
    image = nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output(
        "display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})])
    # HTML that nbconvert does not show (JavaScript comes first) or that holds an image without alt.
    script = nbformat.v4.new_code_cell("js()", outputs=[nbformat.v4.new_output(
        "display_data", data={"application/javascript": "console.log(1)", "text/html": "<p>js</p>"})])
    img = nbformat.v4.new_code_cell("img()", outputs=[_html('<p>logo <IMG src="logo.png"></p>')])
    for extra in (image, nbformat.v4.new_markdown_cell("![chart](chart.png)"), script, img):
        nb = _page_notebook(extra)
        assert not export._html_outputs_only(nb)
        ours, _ = export._exporter().from_notebook_node(nb, resources={"perfkit_head": ""})
        theirs, _ = _nbconvert().from_notebook_node(nb, resources={"perfkit_head": ""})
        uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # a JS output's own div id
        assert uuid.sub("ID", ours) == uuid.sub("ID", theirs)
        assert 'alt="' in ours or "jp-RenderedJavaScript" in ours
