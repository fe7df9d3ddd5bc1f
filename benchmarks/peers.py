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
UNITS_SQL = {
    "odr": (60, 14, """
        SELECT o.account_id, seg.segment, o.pday AS anchor,
               least(f.day, c.day, b.day) AS known
        FROM orders o
        CROSS JOIN LATERAL (SELECT o.fulfillment_channel AS segment UNION ALL SELECT 'all') seg
        LEFT JOIN (SELECT account_id, order_id, min(CAST(feedback_date AS DATE)) AS day FROM feedback
                   WHERE rating <= 2 AND NOT coalesce(removed, false) GROUP BY ALL) f USING (account_id, order_id)
        LEFT JOIN (SELECT account_id, order_id, min(CAST(claim_date AS DATE)) AS day FROM claims
                   WHERE lower(status) NOT IN ('denied', 'withdrawn') GROUP BY ALL) c USING (account_id, order_id)
        LEFT JOIN (SELECT account_id, order_id, min(CAST(chargeback_date AS DATE)) AS day FROM chargebacks
                   WHERE coalesce(kind, 'service') <> 'fraud' GROUP BY ALL) b USING (account_id, order_id)
    """),
    "cancel_rate": (7, 0, """
        SELECT account_id, 'MFN' AS segment, pday AS anchor,
               CASE WHEN order_status = 'Cancelled' AND NOT coalesce(buyer_requested_cancel, false)
                    THEN pday END AS known
        FROM orders WHERE fulfillment_channel = 'MFN'
    """),
    "late_shipment_rate_10d": (10, 0, """
        SELECT account_id, 'MFN' AS segment, CAST(latest_ship_date AS DATE) AS anchor,
               CASE WHEN ship_confirm_date IS NULL OR ship_confirm_date > latest_ship_date
                    THEN CAST(latest_ship_date AS DATE) END AS known
        FROM orders WHERE fulfillment_channel = 'MFN' AND order_status <> 'Cancelled' AND latest_ship_date IS NOT NULL
    """),
}
UNITS_SQL["late_shipment_rate_30d"] = (30, 0, UNITS_SQL["late_shipment_rate_10d"][2])


def duckdb_series(root: Path, days: dict[str, tuple[dt.date, dt.date]], threads: int = 2,
                  fmt: str = "parquet") -> pd.DataFrame:
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
    con.execute(f"""CREATE TEMP VIEW orders AS SELECT {acct} AS account_id, order_id, fulfillment_channel,
        order_status, buyer_requested_cancel, latest_ship_date, ship_confirm_date,
        CAST(purchase_date AS DATE) AS pday FROM {reader}('{glob.format("orders")}', filename = true)""")
    for table in ("feedback", "claims", "chargebacks"):
        con.execute(f"CREATE TEMP VIEW {table} AS SELECT {acct} AS account_id, * EXCLUDE (filename) "
                    f"FROM {reader}('{glob.format(table)}', filename = true)")
    cal = pd.DataFrame([(a, lo, hi) for a, (lo, hi) in days.items()], columns=["account_id", "lo", "hi"])
    con.register("bounds", cal)
    frames = []
    for metric, (window, lag, units) in UNITS_SQL.items():
        frames.append(con.execute(f"""
            WITH u AS ({units}),
            b AS (
                SELECT account_id, segment, d, sum(den) AS den, sum(n1) AS n1, sum(n2) AS n2 FROM (
                    SELECT account_id, segment, anchor AS d, 1 AS den, 0 AS n1, 0 AS n2 FROM u
                    UNION ALL SELECT account_id, segment, greatest(anchor, known - {lag}), 0, 1, 0
                              FROM u WHERE known IS NOT NULL
                    UNION ALL SELECT account_id, segment, greatest(anchor, known - {lag + window}), 0, 0, 1
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


def naive_series(orders: pd.DataFrame, feedback: pd.DataFrame, claims: pd.DataFrame, chargebacks: pd.DataFrame,
                 days: list[dt.date]) -> pd.DataFrame:
    """What an analyst writes first: for each day, filter the orders again and count (ODR, all orders)."""
    rows = []
    pday = orders["purchase_date"].dt.date
    for d in days:
        lo, hi = d - dt.timedelta(days=73), d - dt.timedelta(days=14)
        window = orders[(pday >= lo) & (pday <= hi)]
        fb = feedback[(feedback["rating"] <= 2) & ~feedback["removed"].fillna(False).astype(bool)
                      & (feedback["feedback_date"].dt.date <= d)]
        cl = claims[~claims["status"].str.lower().isin(["denied", "withdrawn"]) & (claims["claim_date"].dt.date <= d)]
        cb = chargebacks[(chargebacks["kind"].fillna("service") != "fraud") & (chargebacks["chargeback_date"].dt.date <= d)]
        bad = set(fb["order_id"]) | set(cl["order_id"]) | set(cb["order_id"])
        rows.append((d, int(window["order_id"].isin(bad).sum()), len(window)))
    return pd.DataFrame(rows, columns=["as_of", "numerator", "denominator"])
