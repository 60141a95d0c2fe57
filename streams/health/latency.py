"""Repository: end-to-end latency of the pipeline from the ledger (PostgreSQL), the only SQL of streams.health.

A decision entry of streams_case_audit carries the triggering event's occurred_at (when the office system
says it happened) and recorded_at (when the router committed the decision): their difference is the
end-to-end latency. Entries whose occurred_at lies after recorded_at (a producer's clock ahead) are left
out of the percentiles and counted in `skewed`, so a wrong clock does not look like negative latency.
"""

from __future__ import annotations

from psycopg2 import sql

from streams.health.report import LatencySummary

__all__ = ["pipeline_latency", "latency_from", "LATENCY_SQL"]

LATENCY_SQL = sql.SQL("""
    WITH recent AS (
        SELECT extract(epoch FROM recorded_at - occurred_at)::float8 AS seconds
        FROM {audit}
        WHERE entry = 'decision' AND recorded_at >= now() - make_interval(secs => %(seconds)s)
    )
    SELECT count(*) FILTER (WHERE seconds >= 0),
           percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY seconds) FILTER (WHERE seconds >= 0),
           max(seconds) FILTER (WHERE seconds >= 0),
           count(*) FILTER (WHERE seconds < 0)
    FROM recent
""").format(audit=sql.Identifier("streams_case_audit"))


def pipeline_latency(database_url: str, minutes: float, connect_timeout_s: int = 5) -> LatencySummary:
    """Percentiles (seconds) of event -> decision latency over decisions recorded in the last `minutes`."""
    import psycopg2

    conn = psycopg2.connect(database_url, connect_timeout=connect_timeout_s)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET LOCAL statement_timeout = '10s'")
            return latency_from(cur, minutes)
    finally:
        conn.close()


def latency_from(cursor, minutes: float) -> LatencySummary:
    """The same on an open cursor (its transaction, its search_path)."""
    cursor.execute(LATENCY_SQL, {"seconds": float(minutes) * 60})
    count, quantiles, longest, skewed = cursor.fetchone()
    p50, p90, p99 = quantiles or (None, None, None)
    return LatencySummary(minutes=minutes, count=int(count), p50=p50, p90=p90, p99=p99, max=longest,
                          skewed=int(skewed))
