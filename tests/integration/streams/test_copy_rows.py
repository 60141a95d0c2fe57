"""The ledger's COPY writer keeps every value as it was: escapes, NULLs, JSON with backslashes, non-ASCII."""

from __future__ import annotations

import json

import psycopg2
import pytest
from psycopg2 import sql

from streams.ledger import copy_rows

pytestmark = pytest.mark.integration

AWKWARD = ["tab\there", "line\nbreak", "carriage\rreturn", "back\\slash", "\\N", "", "Bodø – Sørfold ✓", "\\t"]


def test_copy_rows_round_trips_awkward_text_nulls_and_json(database_url):
    detail = {"note": "a \"quoted\" \\ backslash\tand tab", "æøå": [1, 2.5, None]}
    rows = [(i, text, None if i % 2 else text, json.dumps(detail, ensure_ascii=False), i % 3 == 0)
            for i, text in enumerate(AWKWARD)]
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE copy_probe (n int, t text, maybe text, j jsonb, b boolean)")
        copy_rows(cur, sql.Identifier("copy_probe"), ("n", "t", "maybe", "j", "b"), rows)
        cur.execute("SELECT n, t, maybe, j, b FROM copy_probe ORDER BY n")
        back = cur.fetchall()
    assert back == [(n, t, m, detail, b) for n, t, m, _j, b in rows]
