"""The explorer: one :class:`~perfkit.explore.state.ExplorerState` and the views that follow it.

The notebook only displays :meth:`Explorer.widget` and the panels under it; choosing an account,
dates, a language, a metric, or clicking a chart point changes the state, and every view that
depends on what changed redraws itself (:mod:`perfkit.explore.views`).
"""
from __future__ import annotations

import html
import json
import os
import urllib.parse
from pathlib import Path

import ipywidgets as W
import pandas as pd

from perfkit.engine import registry
from perfkit.poa.causes import CauseStore
from perfkit.views.charts import rate_chart
from perfkit.config import paths
from perfkit.analysis.drilldown import units_frame
from perfkit.core.errors import PerfkitError
from perfkit.explore.state import ExplorerState
from perfkit.explore.causes import CausesView, PoaView
from perfkit.explore.charts import ChartView
from perfkit.explore.panel import ChartsPanel
from perfkit.explore.views import Bound, DrillView, LoadingNotes, StatusView, tagged
from perfkit.views.labels import t
from perfkit.loading.loader import account_dirs
from perfkit.core.policy import Policy
from perfkit.engine.registry import resolve_policy
from perfkit.analysis.reconcile import official_points

TABS = ("tab_charts", "tab_drill", "tab_causes", "tab_poa")


def account_from_query(query: str | None = None) -> str | None:
    """The account the app was opened on: ``?account=ID`` in its URL (the portfolio's links), which
    Voila hands the kernel as $QUERY_STRING; None when there is none."""
    query = os.environ.get("QUERY_STRING", "") if query is None else query
    asked = urllib.parse.parse_qs(query.lstrip("?")).get("account")
    return asked[0].strip() or None if asked else None


def _name_of(folder: Path) -> str:
    try:
        meta = json.loads((folder / "account.json").read_text(encoding="utf-8-sig"))
        return str(meta.get("name") or folder.name)
    except (OSError, ValueError, AttributeError):
        return folder.name


class Explorer:
    """One account at a time: status, charts, drill-down, root causes and the POA draft.

    Parameters
    ----------
    data_root : path, optional
        Folder of account folders (default: :func:`perfkit.config.paths`).
    account_id : str, optional
        The first account shown (default: ``?account=`` of the app's URL, else the first folder).
    start, end : date-like, optional
        The first account's period (default: its data's own period).
    lang : str
        ``en`` or ``zh``.
    causes_db, poa_dir : path, optional
        Where causes and saved POAs go (default: from :mod:`perfkit.config`).
    policy : Policy or path, optional
        Thresholds and windows (default: the packaged policy).
    """

    def __init__(self, data_root: str | Path | None = None, account_id: str | None = None, start: object = None,
                 end: object = None, lang: str = "en", causes_db: str | Path | None = None,
                 policy: Policy | str | Path | None = None, poa_dir: str | Path | None = None) -> None:
        p = paths()
        root = Path(data_root or p.data)
        folders = account_dirs(root)
        if not folders:
            raise PerfkitError(f"{root}: no account folders")
        ids = [f.name for f in folders]
        account_id = account_id or account_from_query()
        # The asked-for account first, then the others in order: the first that loads is shown and
        # any that fail on the way are listed as refused (one bad folder never stops the explorer).
        order = ([account_id] if account_id in ids else []) + [i for i in ids if i != account_id]
        self.state = ExplorerState(root, resolve_policy(policy or None), order, lang, start, end)
        if account_id and account_id not in ids:  # e.g. a portfolio link to a folder since removed
            self.state.refused = {**self.state.refused, account_id: f"no account folder of that name in {root}"}
        self.store = CauseStore(causes_db or p.causes_db)
        self.poa_dir = Path(poa_dir or p.reports / "poa")
        self._names = {f.name: f"{_name_of(f)} ({f.name})" for f in folders}
        self.account = W.Dropdown()
        self.lang = W.ToggleButtons(options=[("English", "en"), ("中文", "zh")])
        self.start, self.end = W.DatePicker(), W.DatePicker()
        self._pickers = [Bound(self.account, self.state, "account"), Bound(self.lang, self.state, "lang"),
                         Bound(self.start, self.state, "start", empty=True), Bound(self.end, self.state, "end", empty=True)]
        self.tabs = W.Tab()
        self.error, self.refused, self.date_note, self.span = (tagged(W.HTML(), n) for n in (
            "error", "refused", "date-note", "span"))
        self.notes = LoadingNotes(self.state)
        self.state.observe(lambda c: setattr(self.error, "value", f"<b style='color:#c0392b'>⚠ {html.escape(c['new'])}</b>"
                                             if c["new"] else ""), "error")
        self.state.observe(lambda _c: self._sync(), "refused")
        self._views: dict[str, object] = {}
        self.state.on_change(lambda _c: self._sync(), {"account", "start", "end", "lang", "date_note"})
        self._sync()

    @property
    def policy(self) -> Policy:
        return self.state.policy

    def _sync(self) -> None:
        """The top pickers, the lines beside them and the tab titles show the state."""
        st, lang = self.state, self.state.lang
        # A refused folder stays listed (choosing it says why again) but is marked.
        accounts = [(f"⚠ {label}" if i in st.refused else label, i) for i, label in self._names.items()]
        for bound, value, options in zip(self._pickers, (st.account, st.lang, st.start, st.end),
                                         (accounts, None, None, None)):
            bound.set(value, options)
        self.refused.value = "".join(
            f"<div style='color:#c0392b'>⚠ {html.escape(t('refused_folder', lang, account=k, reason=v))}</div>"
            for k, v in st.refused.items())
        self.date_note.value = f"<span style='color:#c0392b'>⚠ {html.escape(st.date_note)}</span>" if st.date_note else ""
        first, last = st.span()
        self.span.value = html.escape(t("data_span", lang, first=first, last=last) if first else t("no_dates", lang))
        for widget, key in ((self.account, "account"), (self.start, "from_date"), (self.end, "to_date")):
            widget.description = t(key, lang)
        if self.tabs.children:
            self.tabs.titles = tuple(t(k, lang) for k in TABS)

    # --- views ---------------------------------------------------------------------------------

    def view(self, name: str):
        """The explorer's own view ``name`` (status, chart, drill, causes, poa), made on first use."""
        if name not in self._views:
            st = self.state
            make = {"status": lambda: StatusView(st), "chart": lambda: ChartView(st, self._to_drill),
                    "drill": lambda: DrillView(st), "causes": lambda: CausesView(st, self.store),
                    "poa": lambda: PoaView(st, self.store, self.poa_dir)}
            self._views[name] = make[name]()
        return self._views[name]

    def _on_tab(self, change: dict) -> None:
        if change["new"] is not None:
            self.state.tab = ("chart", "drill", "causes", "poa")[change["new"]]
            self.view(self.state.tab).reveal()

    def _to_drill(self) -> None:
        self.tabs.selected_index = 1

    def widget(self) -> W.Widget:
        """The whole explorer for JupyterLab or Voila."""
        names = ("chart", "drill", "causes", "poa")
        self.state.tab = names[self.tabs.selected_index or 0]  # hidden tabs draw when selected
        self.tabs.children = [self.view(v).widget() for v in names]
        self.tabs.observe(self.state.guard(self._on_tab), "selected_index")
        self._sync()
        return W.VBox([W.HBox([tagged(self.account, "account"), tagged(self.lang, "lang")]), self.refused,
                       W.HBox([tagged(self.start, "start"), tagged(self.end, "end"), self.span, self.date_note]),
                       self.error, self.notes.widget(), self.view("status").out, tagged(self.tabs, "tabs")])

    def status_panel(self) -> W.Output:
        """The status table again, for the cells under the widget: the same widget shown twice, so
        it is drawn once per change and can never differ from the one above."""
        return self.view("status").out

    def charts_panel(self) -> W.Accordion:
        """Every rate's chart of the current account, folded until opened; it follows the same state."""
        return ChartsPanel(self.state).fold

    # --- for scripts and tests ------------------------------------------------------------------

    def status(self) -> pd.DataFrame:
        return self.state.status()

    def status_html(self) -> str:
        return self.view("status").html()

    def hot_metrics(self) -> list[tuple[str, str]]:
        return self.state.hot_metrics()

    def chart_metrics(self) -> list[str]:
        """The metrics the explorer draws, in policy order."""
        return registry.chart_metrics(self.policy)

    def chart(self, metric: str | None = None):
        """One metric's chart of the current account as a go.Figure."""
        st = self.state
        return rate_chart(st.series(), metric or st.metric, self.policy, st.lang, official=official_points(st.ctx()))

    def drill(self, metric: str | None = None, day: object = None, segment: str | None = None) -> pd.DataFrame:
        """The units behind ``metric`` on ``day`` (default: the state's), defective ones first."""
        st = self.state
        units = units_frame(st.ctx(), st.window(metric, day, segment))
        return units.sort_values(["defective", "anchor_date"], ascending=[False, False]).reset_index(drop=True)
