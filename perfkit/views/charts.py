"""One plotly figure per chart, usable in notebooks, reports or any script.

Each rate is drawn over time against its target (a labelled dashed line) and warning level
(dotted), with breach periods shaded and numerator/denominator in the hover.
"""
from __future__ import annotations

import functools
import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from perfkit.views.labels import metric_name, segment_name, t
from perfkit.engine import registry
from perfkit.engine.metrics import partial_values
from perfkit.core.policy import Policy
from perfkit.views.status import STATUS_COLOURS

LINE_COLOURS = ["#1f5fa8", "#e07b00", "#2a9d8f", "#8e44ad", "#c0392b", "#6d6875", "#3a86ff", "#8ab17d"]


def _pct(value) -> str:
    return f"{float(value) * 100:.4g}%"


# Columns are turned into Python lists whole (``tolist``): iterating an Arrow-backed column
# element by element cost most of a chart's time, and the explorer's panel draws ten at a time.

def _days(values: pd.Series) -> list[str]:
    if pd.api.types.is_datetime64_any_dtype(values):
        return [str(v) for v in values]  # str(Timestamp) keeps the time of day, as before
    return values.astype(str).tolist()    # dates (Arrow or datetime.date) as YYYY-MM-DD


def _pct_values(rates: pd.Series) -> list[float | None]:
    pct = rates.to_numpy(dtype=float, na_value=np.nan) * 100
    return [None if r != r else r for r in pct.tolist()]  # NaN (undefined) is a gap, never a 0


def _ints(values: pd.Series) -> list[int]:
    return values.to_numpy(dtype=float).astype(np.int64).tolist()


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


def _runs(dates: pd.Series, flags: pd.Series) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Contiguous runs of True as (first day, last day)."""
    f = np.asarray(flags, dtype=bool)
    edges = np.diff(np.r_[False, f, False].astype(np.int8))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    days = list(dates)
    return [(days[a], days[b]) for a, b in zip(starts.tolist(), ends.tolist())]


def rate_chart_spec(series: pd.DataFrame, metric: str, policy: Policy, lang: str = "en",
                    segments: list[str] | None = None, official: pd.DataFrame | None = None,
                    height: int = 360) -> dict:
    """:func:`rate_chart` as a plain plotly figure dict (no validation: cheap to build and render).

    Parameters are those of :func:`rate_chart`, plus ``height`` in pixels.
    """
    pol = policy
    mp = pol[metric]
    rows = series[series["metric"] == metric]
    early_id = registry.early_view(metric, set(series["metric"].unique()))  # unique first: iterating every row cost most of a chart
    early = series[series["metric"] == early_id] if early_id else None
    segs = segments or drawn_segments(rows)
    traces: list[dict] = []
    good = mp.counts_good
    count_label = t("good_counts" if good else "counts", lang)
    for i, seg in enumerate(segs):
        s = rows[rows["segment"] == seg].sort_values("as_of")
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        # Values on part of their window are drawn apart (dotted, faded): they are no verdict.
        partial = partial_values(s).to_numpy(dtype=bool)
        words: dict[str, str] = {}  # each status said once in ``lang``, not once per day
        shown = [words.setdefault(k, t(k, lang)) for k in
                 ("partial" if p and x in ("ok", "at_risk", "breach", "advisory") else x
                  for p, x in zip(partial.tolist(), s["status"].tolist()))]
        custom = [[n, d, x] for n, d, x in zip(_ints(s["numerator"]), _ints(s["denominator"]), shown)]
        hover = (f"%{{x|%Y-%m-%d}}<br>{html.escape(segment_name(seg, lang))}: %{{y:.2f}}%<br>"
                 f"{count_label}: %{{customdata[0]}} / %{{customdata[1]}}<br>%{{customdata[2]}}<extra></extra>")
        rates = _pct_values(s["rate"])
        days = _days(s["as_of"])
        traces.append(dict(
            type="scatter", x=days, y=[None if p else r for p, r in zip(partial.tolist(), rates)], mode="lines",
            name=html.escape(segment_name(seg, lang)), line={"color": colour, "width": 2.4 if i == 0 else 1.6},
            customdata=custom, hovertemplate=hover, legendgroup=seg,
        ))
        if partial.any():
            # Each partial run is joined to its whole neighbours, so the line does not break.
            near = partial | np.r_[partial[1:], False] | np.r_[False, partial[:-1]]
            traces.append(dict(
                type="scatter", x=days, y=[r if n else None for n, r in zip(near.tolist(), rates)], mode="lines",
                name=html.escape(f"{segment_name(seg, lang)} ({t('partial_trace', lang)})"),
                line={"color": colour, "dash": "dot", "width": 1.4}, opacity=0.45,
                customdata=custom, hovertemplate=hover, legendgroup=seg,
            ))
        if early is not None and len(early):
            e = early[early["segment"] == seg].sort_values("as_of")
            if len(e):
                traces.append(dict(
                    type="scatter", x=_days(e["as_of"]), y=_pct_values(e["rate"]), mode="lines",
                    name=html.escape(f"{segment_name(seg, lang)} ({t('maturing', lang)})"),
                    line={"color": colour, "dash": "dash", "width": 1.3}, opacity=0.8,
                    customdata=[list(p) for p in zip(_ints(e["numerator"]), _ints(e["denominator"]))],
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
        for start, end in breach_runs(rows, segs[0] if segs else None):
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
    span = judged_range(rows[rows["segment"].isin(segs)], [mp.value, mp.warn] if mp.target != "info" else [])
    if span is not None:
        # Rates judged "below" start at 0 (how far from none); "above" ones show their judged band.
        layout["yaxis"]["range"] = span if mp.target == ">" else [0.0, span[1]]
    return {"data": traces, "layout": layout}


def drawn_segments(rows: pd.DataFrame) -> list[str]:
    """One metric's segments that have units on some day (an account without FBA orders draws no
    FBA line); the first segment when none has any, so the chart still says 'no data'."""
    segs = list(rows["segment"].unique())  # in order of appearance, without iterating the column
    counted = set(rows.loc[rows["denominator"] > 0, "segment"].unique())
    return [s for s in segs if s in counted] or segs[:1]


def breach_runs(rows: pd.DataFrame, segment: str | None) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """One metric's breach periods on ``segment`` as (first day, last day), judged on whole
    windows only (a partial value is no verdict)."""
    s = rows[rows["segment"] == segment].sort_values("as_of")
    return _runs(pd.to_datetime(s["as_of"]), (s["status"] == "breach") & ~partial_values(s))


def judged_range(rows: pd.DataFrame, levels: list, pad: float = 0.08) -> list[float] | None:
    """The y range (percent) of the judged values, the target and the warning level: a value on
    part of its window (drawn dotted, apart) never stretches the axis, so a dip of partial data
    to 0% cannot flatten the lines that are judged. None when nothing is judged."""
    whole = rows.loc[~partial_values(rows) & rows["rate"].notna(), "rate"].astype(float) * 100
    if whole.empty:
        return None
    values = list(whole) + [float(v) * 100 for v in levels if v is not None]
    lo, hi = min(values), max(values)
    margin = max((hi - lo) * pad, 0.25)
    return [max(lo - margin, 0.0), min(hi + margin, 100.0)]


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
    return go.Figure(rate_chart_spec(series, metric, policy, lang, segments, official, height))


def metric_charts(series: pd.DataFrame, policy: Policy, lang: str = "en", official: pd.DataFrame | None = None,
                  with_info: bool = False, as_spec: bool = False) -> list[tuple[str, go.Figure | dict]]:
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
    """
    make = rate_chart_spec if as_spec else rate_chart
    present = set(series["metric"].unique())
    return [(m, make(series, m, policy, lang, official=official))
            for m in registry.chart_metrics(policy, with_info) if m in present]


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
    label = table.columns[0]
    names = [html.escape(t(str(v), lang) if key == "component" else str(v)) for v in table[label]]
    fig = go.Figure(go.Bar(x=table["defects"], y=names, orientation="h", marker_color=STATUS_COLOURS["breach"],
                           hovertemplate="%{y}: %{x}<extra></extra>"))
    fig.update_layout(height=height, margin={"l": 140, "r": 20, "t": 30, "b": 30}, template="plotly_white",
                      title={"text": html.escape(t(f"by_{key}", lang)), "x": 0.01},
                      yaxis={"autorange": "reversed"})
    return fig
