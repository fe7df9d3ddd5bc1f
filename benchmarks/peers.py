"""The peers perfkit is measured against: DuckDB SQL and the plain per-day pandas loop.

Both compute the same ODR (per channel and all), cancel-rate and late-shipment series as the
engine, from the same Parquet files, so the benchmark can check that the numbers agree.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

# Each metric: (id, window, lag, SQL of its units: account_id, segment, anchor day, defect day or NULL).
# The benchmark data stores local wall-clock times, so a timestamp cast to DATE is the local day.
# A feedback counts from its day until its removal (undated removals: never); a denied or withdrawn
# claim until its status date (undated: never); per order and component the span is the hull of its
# events. An order is defective while any component is on: the union, by inclusion and exclusion.
ODR_SPANS = """
    fb AS (SELECT account_id, order_id, min(CAST(feedback_date AS DATE)) AS s,
                  CASE WHEN bool_or(NOT coalesce(removed, false)) THEN NULL
                       ELSE max(CAST(removed_date AS DATE)) END AS e
           FROM feedback WHERE rating <= 2 AND NOT (coalesce(removed, false) AND removed_date IS NULL) GROUP BY ALL),
    cl AS (SELECT account_id, order_id, min(CAST(claim_date AS DATE)) AS s,
                  CASE WHEN bool_or(lower(status) NOT IN ('denied', 'withdrawn')) THEN NULL
                       ELSE max(CAST(status_date AS DATE)) END AS e
           FROM claims WHERE lower(status) NOT IN ('denied', 'withdrawn') OR status_date IS NOT NULL GROUP BY ALL),
    cb AS (SELECT account_id, order_id, min(CAST(chargeback_date AS DATE)) AS s, CAST(NULL AS DATE) AS e
           FROM chargebacks WHERE coalesce(kind, 'service') <> 'fraud' GROUP BY ALL),
    spans AS (
        SELECT account_id, order_id, s, e, 1 AS sign FROM fb
        UNION ALL SELECT account_id, order_id, s, e, 1 FROM cl
        UNION ALL SELECT account_id, order_id, s, e, 1 FROM cb
        UNION ALL SELECT x.account_id, x.order_id, greatest(x.s, y.s), least(x.e, y.e), -1
                  FROM fb x JOIN cl y USING (account_id, order_id)
        UNION ALL SELECT x.account_id, x.order_id, greatest(x.s, y.s), least(x.e, y.e), -1
                  FROM fb x JOIN cb y USING (account_id, order_id)
        UNION ALL SELECT x.account_id, x.order_id, greatest(x.s, y.s), least(x.e, y.e), -1
                  FROM cl x JOIN cb y USING (account_id, order_id)
        UNION ALL SELECT x.account_id, x.order_id, greatest(x.s, y.s, z.s), least(x.e, y.e, z.e), 1
                  FROM fb x JOIN cl y USING (account_id, order_id) JOIN cb z USING (account_id, order_id)
    )"""

# Each metric: (id, window, lag, SQL of its rows: account_id, segment, anchor day, unit (1: counts in the
# denominator), known (the day a +sign or -sign change of its defect happens, NULL: none), sign).
# The benchmark data stores local wall-clock times, so a timestamp cast to DATE is the local day.
UNITS_SQL = {
    "odr": (60, 14, """
        WITH """ + ODR_SPANS + """,
        os AS (SELECT o.account_id, o.order_id, seg.segment, o.pday AS anchor FROM orders o
               CROSS JOIN LATERAL (SELECT o.fulfillment_channel AS segment UNION ALL SELECT 'all') seg)
        SELECT account_id, segment, anchor, 1 AS unit, CAST(NULL AS DATE) AS known, 0 AS sign FROM os
        UNION ALL SELECT os.account_id, os.segment, os.anchor, 0, sp.s, sp.sign
                  FROM os JOIN spans sp USING (account_id, order_id) WHERE sp.e IS NULL OR sp.s < sp.e
        UNION ALL SELECT os.account_id, os.segment, os.anchor, 0, sp.e, -sp.sign
                  FROM os JOIN spans sp USING (account_id, order_id) WHERE sp.e IS NOT NULL AND sp.s < sp.e
    """),
    "cancel_rate": (7, 0, """
        SELECT account_id, 'MFN' AS segment, pday AS anchor, 1 AS unit,
               CASE WHEN order_status = 'Cancelled' AND NOT coalesce(buyer_requested_cancel, false)
                    THEN pday END AS known, 1 AS sign
        FROM orders WHERE fulfillment_channel = 'MFN'
    """),
    "late_shipment_rate_10d": (10, 0, """
        SELECT account_id, 'MFN' AS segment, CAST(latest_ship_date AS DATE) AS anchor, 1 AS unit,
               CASE WHEN ship_confirm_date IS NULL OR ship_confirm_date > latest_ship_date
                    THEN CAST(latest_ship_date AS DATE) END AS known, 1 AS sign
        FROM orders WHERE fulfillment_channel = 'MFN' AND order_status <> 'Cancelled' AND latest_ship_date IS NOT NULL
    """),
}
UNITS_SQL["late_shipment_rate_30d"] = (30, 0, UNITS_SQL["late_shipment_rate_10d"][2])


def duckdb_series(root: Path, days: dict[str, tuple[dt.date, dt.date]], threads: int = 2,
                  fmt: str = "parquet", metrics: list[str] | None = None) -> pd.DataFrame:
    """Daily (numerator, denominator) per account, metric and segment, computed in DuckDB.

    The same counting identity as perfkit's engine, written as SQL: per-day buckets of
    ``max(anchor, known - lag)`` and cumulative sums over a calendar, one self-join per window.
    """
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    glob = str(root / "*" / ("{}." + fmt))
    reader = "read_parquet" if fmt == "parquet" else "read_csv"
    acct = "regexp_extract(filename, '.*/([^/]+)/[^/]+$', 1)"
    metrics = metrics or list(UNITS_SQL)
    # ODR alone reads three order columns (a narrow export has no others); the rest read five more.
    more = "" if metrics == ["odr"] else "order_status, buyer_requested_cancel, latest_ship_date, ship_confirm_date,"
    con.execute(f"""CREATE TEMP VIEW orders AS SELECT {acct} AS account_id, order_id, fulfillment_channel, {more}
        CAST(purchase_date AS DATE) AS pday FROM {reader}('{glob.format("orders")}', filename = true)""")
    for table in ("feedback", "claims", "chargebacks"):
        con.execute(f"CREATE TEMP VIEW {table} AS SELECT {acct} AS account_id, * EXCLUDE (filename) "
                    f"FROM {reader}('{glob.format(table)}', filename = true)")
    cal = pd.DataFrame([(a, lo, hi) for a, (lo, hi) in days.items()], columns=["account_id", "lo", "hi"])
    con.register("bounds", cal)
    frames = []
    for metric in metrics:
        window, lag, units = UNITS_SQL[metric]
        frames.append(con.execute(f"""
            WITH u AS ({units}),
            b AS (
                SELECT account_id, segment, d, sum(den) AS den, sum(n1) AS n1, sum(n2) AS n2 FROM (
                    SELECT account_id, segment, anchor AS d, 1 AS den, 0 AS n1, 0 AS n2 FROM u WHERE unit = 1
                    UNION ALL SELECT account_id, segment, greatest(anchor, known - {lag}), 0, sign, 0
                              FROM u WHERE known IS NOT NULL
                    UNION ALL SELECT account_id, segment, greatest(anchor, known - {lag + window}), 0, 0, sign
                              FROM u WHERE known IS NOT NULL
                ) GROUP BY ALL),
            segs AS (SELECT DISTINCT account_id, segment FROM u),
            cal AS (SELECT s.account_id, s.segment,
                           unnest(generate_series(CAST(bo.lo AS DATE) - INTERVAL {lag + window + 1} DAY,
                                                  CAST(bo.hi AS DATE), INTERVAL 1 DAY))::DATE AS d
                    FROM segs s JOIN bounds bo USING (account_id)),
            c AS (SELECT cal.account_id, cal.segment, cal.d,
                         sum(coalesce(b.den, 0)) OVER w AS cden, sum(coalesce(b.n1, 0)) OVER w AS cn1,
                         sum(coalesce(b.n2, 0)) OVER w AS cn2
                  FROM cal LEFT JOIN b USING (account_id, segment, d)
                  WINDOW w AS (PARTITION BY cal.account_id, cal.segment ORDER BY cal.d ROWS UNBOUNDED PRECEDING))
            SELECT x.account_id, '{metric}' AS metric, x.segment, CAST(x.d + INTERVAL {lag} DAY AS DATE) AS as_of,
                   x.cn1 - y.cn2 AS numerator, x.cden - y.cden AS denominator
            FROM c x JOIN c y ON x.account_id = y.account_id AND x.segment = y.segment
                              AND y.d = CAST(x.d - INTERVAL {window} DAY AS DATE)
            JOIN bounds bo ON bo.account_id = x.account_id
            WHERE x.d + INTERVAL {lag} DAY BETWEEN CAST(bo.lo AS DATE) AND CAST(bo.hi AS DATE)
        """).df())
    con.close()
    out = pd.concat(frames, ignore_index=True)
    out["as_of"] = pd.to_datetime(out["as_of"]).dt.date
    return out


def _spans(events: pd.DataFrame, start: str, end: pd.Series, still_on: pd.Series) -> pd.DataFrame:
    """Per order: the first start and, unless one of its events never ends, the last end."""
    frame = pd.DataFrame({"order_id": events["order_id"], "s": events[start].dt.date,
                          "e": end.dt.date.where(end.notna(), None), "on": still_on})
    g = frame.groupby("order_id").agg(s=("s", "min"), e=("e", lambda x: max(v for v in x if v is not None)
                                                        if all(v is not None for v in x) else None),
                                      on=("on", "any"))
    g.loc[g["on"], "e"] = None
    return g


def naive_series(orders: pd.DataFrame, feedback: pd.DataFrame, claims: pd.DataFrame, chargebacks: pd.DataFrame,
                 days: list[dt.date]) -> pd.DataFrame:
    """What an analyst writes first: for each day, filter the orders again and count (ODR, all orders).

    A feedback counts until its dated removal, a denied or withdrawn claim until its status date.
    """
    rows = []
    pday = orders["purchase_date"].dt.date
    removed = feedback["removed"].fillna(False).astype(bool)
    gone = feedback.get("removed_date", pd.Series(pd.NaT, index=feedback.index))
    neg = (feedback["rating"] <= 2) & ~(removed & gone.isna())
    fb = _spans(feedback[neg], "feedback_date", gone[neg].where(removed[neg]), ~removed[neg])
    decided = claims.get("status_date", pd.Series(pd.NaT, index=claims.index))
    denied = claims["status"].str.lower().isin(["denied", "withdrawn"])
    keep = ~denied | decided.notna()
    cl = _spans(claims[keep], "claim_date", decided[keep].where(denied[keep]), ~denied[keep])
    for d in days:
        lo, hi = d - dt.timedelta(days=73), d - dt.timedelta(days=14)
        window = orders[(pday >= lo) & (pday <= hi)]
        on = [set(x.index[(x["s"] <= d) & x["e"].map(lambda e: e is None or e > d)]) for x in (fb, cl)]
        cb = chargebacks[(chargebacks["kind"].fillna("service") != "fraud") & (chargebacks["chargeback_date"].dt.date <= d)]
        bad = on[0] | on[1] | set(cb["order_id"])
        rows.append((d, int(window["order_id"].isin(bad).sum()), len(window)))
    return pd.DataFrame(rows, columns=["as_of", "numerator", "denominator"])
