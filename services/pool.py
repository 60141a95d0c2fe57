"""A small PostgreSQL connection pool for the HTTP services (each request's work in one transaction).

    pool = Pool(database_url, max_connections=8)
    with pool.cursor() as cur:      # a pooled connection, one transaction: committed when the block ends,
        cur.execute(...)            # rolled back when it raises; the connection goes back to the pool
    pool.close()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from psycopg2.pool import ThreadedConnectionPool

__all__ = ["Pool"]


class Pool:
    def __init__(self, database_url: str, max_connections: int = 8) -> None:
        self._pool = ThreadedConnectionPool(1, max_connections, database_url)

    def close(self) -> None:
        self._pool.closeall()

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        conn = self._pool.getconn()
        try:
            with conn, conn.cursor() as cur:
                yield cur
        finally:
            self._pool.putconn(conn)
