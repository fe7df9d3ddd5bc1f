"""One plotly figure per chart, usable in notebooks, reports or any script.

Each rate is drawn over time against its target (a labelled dashed line) and warning level
(dotted), with breach periods shaded and numerator/denominator in the hover.
"""
from __future__ import annotations

import functools
import html
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from perfkit.views.labels import metric_name, segment_name, t
from perfkit.engine import registry
from perfkit.engine.metrics import partial_values
from perfkit.core.policy import Policy
from perfkit.views.status import STATUS_COLOURS

if TYPE_CHECKING:  # imported where a go.Figure is built: a report kernel draws dicts and never needs it
    import plotly.graph_objects as go

DAY_MS = 86_400_000  # a date axis counts in milliseconds
LINE_COLOURS = ["#1f5fa8", "#e07b00", "#2a9d8f", "#8e44ad", "#c0392b", "#6d6875", "#3a86ff", "#8ab17d"]


def _pct(value) -> str:
    return f"{float(value) * 100:.4g}%"


# Columns are turned into Python lists whole (``tolist``): iterating an Arrow-backed column
# element by element cost most of a chart's time, and the explorer's panel draws ten at a time.

def _days(values: pd.Series) -> list[str]:
    if pd.api.types.is_datetime64_any_dtype(values):
        return [str(v) for v in values]  # str(Timestamp) keeps the time of day, as before
    return values.astype(str).tolist()    # dates (Arrow or datetime.date) as YYYY-MM-DD


_TENS = np.array([float(10 ** k) for k in range(23)])  # exact powers of ten


def _shown(pct: np.ndarray) -> list[float | None]:
    """Percentages as a chart sends them: 6 significant digits, NaN (undefined) as a gap, never a 0.

    Full floats (17 digits) were a third of a page's chart JSON; a chart draws to a pixel and its
    hover shows 2 decimals (``%{y:.2f}``), so 6 digits show the same. A value so near a hover
    rounding boundary (x.xx5) that 6 digits could move it across keeps all its digits: the hover
    shows exactly what it showed before.
    """
    out = pct.astype(float, copy=True)
    v = np.abs(out)
    ok = np.isfinite(v) & (v > 0)
    digits = 5 - np.floor(np.log10(np.where(ok, v, 1.0))).astype(np.int64)
    ok &= (digits >= 0) & (digits < len(_TENS))
    scale = _TENS[np.clip(digits, 0, len(_TENS) - 1)]
    # An integer over an exact power of ten is the double nearest that decimal: it prints short.
    short = np.round(out * scale) / scale
    hundredths = v * 100
    near = np.abs(hundredths - np.floor(hundredths) - 0.5) <= 60.0 / scale  # 1.2 x the most 6 digits move it
    use = ok & ~near
    out[use] = short[use]
    return [None if r != r else r for r in out.tolist()]


def _pct_values(rates: pd.Series) -> list[float | None]:
    return _shown(rates.to_numpy(dtype=float, na_value=np.nan) * 100)


@functools.lru_cache(maxsize=1)
def _template() -> dict:
    """The plotly_white template as plain JSON, looked up once.

    Read from the JSON file plotly builds it from (the same dict; a test compares them), so a
    report kernel need not import plotly's figure classes for it (about 0.15 s each).
    """
    import importlib.util
    import json
    from pathlib import Path

    spec = importlib.util.find_spec("plotly")  # finds the package without importing it
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "templates" / "plotly_white.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {"data": raw["data"], "layout": raw["layout"]}  # plotly's own key order: the same page bytes
    except (OSError, ValueError, KeyError):  # another plotly layout: ask plotly itself
        import plotly.io as pio

        return pio.templates["plotly_white"].to_plotly_json()


class _Lines:
    """One series' columns as plain arrays, split into its (metric, segment) lines once.

    Selecting each line from the DataFrame (a boolean mask, a sort and a cast per column, for
    every line of every chart) was most of a page's chart time; here each column is converted
    once, its dates are written once per distinct day, and a line is a take of positions.
    """

    def __init__(self, series: pd.DataFrame) -> None:
        day, days = pd.factorize(series["as_of"], sort=True)  # codes in day order: a sort key
        metric, metrics = pd.factorize(series["metric"])
        segment, segments = pd.factorize(series["segment"])
        self.day = day
        self.day_text = np.array(_days(pd.Series(days)), dtype=object)
        self._stamps = days
        # Day numbers, read back from the text sent, when every x is a plain date (to send a
        # daily line as its first day and a step instead of 365 dates).
        plain = all(len(x) == 10 for x in self.day_text.tolist())
        self.day_number = np.array(self.day_text.tolist(), dtype="datetime64[D]").astype(np.int64) if plain else None
        self.rate = series["rate"].to_numpy(dtype=float, na_value=np.nan)
        self.numerator = series["numerator"].to_numpy(dtype=float).astype(np.int64)
        self.denominator = series["denominator"].to_numpy(dtype=float).astype(np.int64)
        self.status = series["status"].to_numpy(dtype=object)
        self.partial = partial_values(series).to_numpy(dtype=bool)
        self.lines: dict[tuple[str, str], np.ndarray] = {}  # positions of each line, by day
        self.segments: dict[str, list[str]] = {}            # each metric's, in order of appearance
        named = np.flatnonzero((metric >= 0) & (segment >= 0))
        if not len(named):
            return
        key = metric[named].astype(np.int64) * len(segments) + segment[named]
        by = np.lexsort((day[named], key))  # by line, then by day
        order, key = named[by], key[by]
        cuts = np.flatnonzero(key[1:] != key[:-1]) + 1
        firsts = []
        for pos in np.split(order, cuts):
            m, s = metrics[metric[pos[0]]], segments[segment[pos[0]]]
            self.lines[(m, s)] = pos
            firsts.append((int(pos.min()), m, s))
        for _, m, s in sorted(firsts):
            self.segments.setdefault(m, []).append(s)

    def line(self, metric: str, segment: str | None) -> np.ndarray:
        return self.lines.get((metric, segment), np.zeros(0, dtype=np.int64))

    def days(self, pos: np.ndarray) -> list[str]:
        return self.day_text[self.day[pos]].tolist()

    def xs(self, pos: np.ndarray, compact: bool) -> dict:
        """A line's x: its dates, or (``compact``) its first day and a one-day step when the days
        follow each other (plotly's ``x0``/``dx``: the same points, hover and axis)."""
        if compact and self.day_number is not None and len(pos) > 1:
            if (np.diff(self.day_number[self.day[pos]]) == 1).all():
                return {"x0": self.day_text[self.day[pos[0]]], "dx": DAY_MS}
        return {"x": self.days(pos)}

    def pct(self, pos: np.ndarray) -> list[float | None]:
        return _shown(self.rate[pos] * 100)

    def drawn(self, metric: str) -> list[str]:
        segs = self.segments.get(metric, [])
        return [s for s in segs if (self.denominator[self.lines[(metric, s)]] > 0).any()] or segs[:1]

    def breach_runs(self, metric: str, segment: str | None) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
        pos = self.line(metric, segment)
        f = (self.status[pos] == "breach") & ~self.partial[pos]
        edges = np.diff(np.r_[False, f, False].astype(np.int8))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
        stamps = pd.to_datetime(self._stamps[self.day[pos]]) if len(starts) else []
        return [(stamps[a], stamps[b]) for a, b in zip(starts.tolist(), ends.tolist())]

    def judged_range(self, metric: str, segments: list[str], levels: list, pad: float = 0.08) -> list[float] | None:
        pos = np.concatenate([self.line(metric, s) for s in dict.fromkeys(segments)] or [np.zeros(0, np.int64)])
        whole = self.rate[pos][~self.partial[pos] & ~np.isnan(self.rate[pos])] * 100
        if not len(whole):
            return None
        values = whole.tolist() + [float(v) * 100 for v in levels if v is not None]
        lo, hi = min(values), max(values)
        margin = max((hi - lo) * pad, 0.25)
        return [max(lo - margin, 0.0), min(hi + margin, 100.0)]


def _one_metric(rows: pd.DataFrame) -> str | None:
    return rows["metric"].iloc[0] if len(rows) else None


def rate_chart_spec(series: pd.DataFrame, metric: str, policy: Policy, lang: str = "en",
                    segments: list[str] | None = None, official: pd.DataFrame | None = None,
                    height: int = 360) -> dict:
    """:func:`rate_chart` as a plain plotly figure dict (no validation: cheap to build and render).

    Parameters are those of :func:`rate_chart`, plus ``height`` in pixels.
    """
    return _spec(_Lines(series), metric, policy, lang, segments, official, height)


def _spec(cols: _Lines, metric: str, policy: Policy, lang: str, segments: list[str] | None,
          official: pd.DataFrame | None, height: int, compact: bool = False) -> dict:
    pol = policy
    mp = pol[metric]
    early_id = registry.early_view(metric, cols.segments.keys())
    segs = segments or cols.drawn(metric)
    traces: list[dict] = []
    good = mp.counts_good
    count_label = t("good_counts" if good else "counts", lang)
    for i, seg in enumerate(segs):
        pos = cols.line(metric, seg)
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        # Values on part of their window are drawn apart (dotted, faded): they are no verdict.
        partial = cols.partial[pos]
        words: dict[str, str] = {}  # each status said once in ``lang``, not once per day
        shown = [words.setdefault(k, t(k, lang)) for k in
                 ("partial" if p and x in ("ok", "at_risk", "breach", "advisory") else x
                  for p, x in zip(partial.tolist(), cols.status[pos].tolist()))]
        custom = [[n, d, x] for n, d, x in zip(cols.numerator[pos].tolist(), cols.denominator[pos].tolist(), shown)]
        hover = (f"%{{x|%Y-%m-%d}}<br>{html.escape(segment_name(seg, lang))}: %{{y:.2f}}%<br>"
                 f"{count_label}: %{{customdata[0]}} / %{{customdata[1]}}<br>%{{customdata[2]}}<extra></extra>")
        rates = cols.pct(pos)
        traces.append(dict(
            type="scatter", **cols.xs(pos, compact), y=[None if p else r for p, r in zip(partial.tolist(), rates)],
            mode="lines",
            name=html.escape(segment_name(seg, lang)), line={"color": colour, "width": 2.4 if i == 0 else 1.6},
            customdata=custom, hovertemplate=hover, legendgroup=seg,
        ))
        if partial.any():
            # Each partial run is joined to its whole neighbours, so the line does not break.
            near = partial | np.r_[partial[1:], False] | np.r_[False, partial[:-1]]
            # Compact: only the days from its first value to its last (the rest is a gap anyway).
            ends = np.flatnonzero(near)[[0, -1]] if compact else [0, len(near) - 1]
            part = slice(int(ends[0]), int(ends[1]) + 1)
            traces.append(dict(
                type="scatter", **cols.xs(pos[part], compact),
                y=[r if n else None for n, r in zip(near[part].tolist(), rates[part])], mode="lines",
                name=html.escape(f"{segment_name(seg, lang)} ({t('partial_trace', lang)})"),
                line={"color": colour, "dash": "dot", "width": 1.4}, opacity=0.45,
                customdata=custom[part], hovertemplate=hover, legendgroup=seg,
            ))
        e = cols.line(early_id, seg) if early_id else ()
        if len(e):
            traces.append(dict(
                type="scatter", **cols.xs(e, compact), y=cols.pct(e), mode="lines",
                name=html.escape(f"{segment_name(seg, lang)} ({t('maturing', lang)})"),
                line={"color": colour, "dash": "dash", "width": 1.3}, opacity=0.8,
                customdata=[list(p) for p in zip(cols.numerator[e].tolist(), cols.denominator[e].tolist())],
                hovertemplate=(f"%{{x|%Y-%m-%d}}<br>{html.escape(t('maturing', lang))}: %{{y:.2f}}%<br>"
                               f"{count_label}: %{{customdata[0]}} / %{{customdata[1]}}<extra></extra>"),
            ))
    if official is not None and len(official):
        o = official[(official["metric"] == metric) & official["segment"].isin(segs)]
        if len(o):
            traces.append(dict(
                type="scatter", x=_days(o["as_of"]), y=_pct_values(o["rate"]), mode="markers",
                name=html.escape(t("amazon_official", lang)),
                marker={"symbol": "diamond", "size": 10, "color": "#232f3e", "line": {"color": "#ff9900", "width": 2}},
                hovertemplate=f"%{{x|%Y-%m-%d}}<br>{html.escape(t('amazon_official', lang))}: %{{y:.2f}}%<extra></extra>",
            ))
    # Target, warning level and breach periods as plain layout shapes: one update, no per-shape
    # axis bookkeeping (add_hline/add_vrect cost more than the rest of the chart).
    shapes, notes = [], []
    if mp.target != "info" and mp.value is not None:
        # The two labels sit on opposite sides (target left, warning right) and each on the far
        # side of its line from the other line, so close levels (95% and 96%) never overlap.
        away = ("bottom", "top") if mp.target == "<" else ("top", "bottom")
        lines = [(mp.value, "breach", "dash", 1.5, f"{t('target', lang)} {mp.target_display()}", away[0], 0)]
        if mp.warn is not None:
            lines.append((mp.warn, "at_risk", "dot", 1.0, f"{t('warn', lang)} {_pct(mp.warn)}", away[1], 1))
        for value, status, dash, width, text, anchor, side in lines:
            y = float(value) * 100
            shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y,
                           "line": {"color": STATUS_COLOURS[status], "dash": dash, "width": width}})
            notes.append({"xref": "paper", "x": side, "xanchor": ("left", "right")[side], "yref": "y", "y": y,
                          "yanchor": anchor, "text": html.escape(text), "showarrow": False,
                          "font": {"color": STATUS_COLOURS[status]}})
        for start, end in cols.breach_runs(metric, segs[0] if segs else None):
            shapes.append({"type": "rect", "xref": "x", "x0": (start - pd.Timedelta(hours=12)).isoformat(),
                           "x1": (end + pd.Timedelta(hours=12)).isoformat(), "yref": "paper", "y0": 0, "y1": 1,
                           "fillcolor": STATUS_COLOURS["breach"], "opacity": 0.10, "line": {"width": 0},
                           "layer": "below"})
    title = metric_name(metric, lang, pol)
    window = t("window_days", lang, n=mp.window) + (t("lag_days", lang, n=mp.lag) if mp.lag else "")
    layout = {
        "title": {"text": f"{html.escape(title)} <span style='font-size:12px;color:#666'>({window})</span>", "x": 0.01},
        "height": height, "margin": {"l": 50, "r": 20, "t": 50, "b": 40}, "hovermode": "x unified",
        "legend": {"orientation": "h", "y": -0.18}, "template": _template(), "shapes": shapes, "annotations": notes,
        "xaxis": {"type": "date"},
        # Rates judged "above" live near 100%: starting their axis at 0 would flatten them.
        "yaxis": {"title": {"text": t("rate", lang) + " (%)"}, "rangemode": "normal" if mp.target == ">" else "tozero"},
    }
    span = cols.judged_range(metric, segs, [mp.value, mp.warn] if mp.target != "info" else [])
    if span is not None:
        # Rates judged "below" start at 0 (how far from none); "above" ones show their judged band.
        layout["yaxis"]["range"] = span if mp.target == ">" else [0.0, span[1]]
    return {"data": traces, "layout": layout}


def drawn_segments(rows: pd.DataFrame) -> list[str]:
    """One metric's segments that have units on some day (an account without FBA orders draws no
    FBA line); the first segment when none has any, so the chart still says 'no data'."""
    return _Lines(rows).drawn(_one_metric(rows))


def breach_runs(rows: pd.DataFrame, segment: str | None) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """One metric's breach periods on ``segment`` as (first day, last day), judged on whole
    windows only (a partial value is no verdict)."""
    return _Lines(rows).breach_runs(_one_metric(rows), segment)


def judged_range(rows: pd.DataFrame, levels: list, pad: float = 0.08) -> list[float] | None:
    """The y range (percent) of the judged values, the target and the warning level: a value on
    part of its window (drawn dotted, apart) never stretches the axis, so a dip of partial data
    to 0% cannot flatten the lines that are judged. None when nothing is judged."""
    lines = _Lines(rows)
    metric = _one_metric(rows)
    return lines.judged_range(metric, lines.segments.get(metric, []), levels, pad)


def rate_chart(series: pd.DataFrame, metric: str, policy: Policy, lang: str = "en",
               segments: list[str] | None = None, official: pd.DataFrame | None = None,
               height: int = 360) -> go.Figure:
    """The rate of one metric over time, one line per segment.

    Parameters
    ----------
    series : DataFrame
        :func:`perfkit.account_series` output for one account. When it holds the metric's
        maturing view (``early=True``: the early ODR), that view is drawn dashed.
    metric : str
        The metric to draw.
    policy : Policy
        Gives the target (dashed line), warning level (dotted) and the metric's name.
    lang : str
        ``en`` or ``zh``.
    segments : list of str, optional
        The segments to draw (default: all in the series); breach periods are shaded from the first.
    official : DataFrame, optional
        Amazon's own figures (:func:`perfkit.analysis.reconcile.official_points`), drawn as markers.
    """
    import plotly.graph_objects as go

    return go.Figure(rate_chart_spec(series, metric, policy, lang, segments, official, height))


def metric_charts(series: pd.DataFrame, policy: Policy, lang: str = "en", official: pd.DataFrame | None = None,
                  with_info: bool = False, as_spec: bool = False,
                  compact: bool = False) -> list[tuple[str, go.Figure | dict]]:
    """A chart for every metric in the series (each with its maturing view), in policy order.

    Parameters
    ----------
    series : DataFrame
        One account's series.
    policy : Policy
        Targets, names and the metrics' order.
    lang : str
        ``en`` or ``zh``.
    official : DataFrame, optional
        Amazon's own figures, drawn as markers.
    with_info : bool
        Also the metrics without a target.
    as_spec : bool
        Figure dicts instead of ``go.Figure`` objects (cheaper to render in a report).
    compact : bool
        Smaller JSON that draws the same (a page's): a daily line as its first day and a step
        (``x0``/``dx``), a partial-data line only over its own days. The explorer keeps every x,
        which it matches clicks against.
    """
    cols = _Lines(series)  # split once for every chart
    specs = [(m, _spec(cols, m, policy, lang, None, official, 360, compact))
             for m in registry.chart_metrics(policy, with_info) if m in cols.segments]
    if as_spec:
        return specs
    import plotly.graph_objects as go

    return [(m, go.Figure(spec)) for m, spec in specs]


def drivers_chart(table: pd.DataFrame, key: str, lang: str = "en", height: int = 280) -> go.Figure:
    """Defects by one driver (component, category, carrier or week) as horizontal bars.

    Parameters
    ----------
    table : DataFrame
        One table of :func:`perfkit.window_drivers` (its first column names the driver).
    key : str
        Which driver (component labels are translated).
    lang : str
        ``en`` or ``zh``.
    height : int
        In pixels.
    """
    import plotly.graph_objects as go

    label = table.columns[0]
    names = [html.escape(t(str(v), lang) if key == "component" else str(v)) for v in table[label]]
    fig = go.Figure(go.Bar(x=table["defects"], y=names, orientation="h", marker_color=STATUS_COLOURS["breach"],
                           hovertemplate="%{y}: %{x}<extra></extra>"))
    fig.update_layout(height=height, margin={"l": 140, "r": 20, "t": 30, "b": 30}, template="plotly_white",
                      title={"text": html.escape(t(f"by_{key}", lang)), "x": 0.01},
                      yaxis={"autorange": "reversed"})
    return fig
