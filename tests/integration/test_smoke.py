"""Smoke tests on the real stack: a Kafka round trip with each client, a PostGIS spatial query."""

from __future__ import annotations

import asyncio
import json
import uuid

import psycopg2
import pytest

from infra.errors import MigrationError
from infra.migrations import apply_migrations

pytestmark = pytest.mark.integration


def test_kafka_python_round_trip_keeps_key_order_on_one_partition(bootstrap_servers, new_topic, new_group):
    from kafka import KafkaConsumer, KafkaProducer

    topic = new_topic(partitions=3)
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True)
    sent = [producer.send(topic, key=b"case-1", value=json.dumps({"n": n}).encode()).get(10) for n in range(20)]
    producer.close()
    assert len({md.partition for md in sent}) == 1  # one key, one partition

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap_servers, group_id=new_group(),
                             auto_offset_reset="earliest", consumer_timeout_ms=10000)
    got = [json.loads(m.value)["n"] for m, _ in zip(consumer, range(20), strict=False)]
    consumer.close()
    assert got == list(range(20))


def test_aiokafka_round_trip(bootstrap_servers, new_topic, new_group):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    topic = new_topic(partitions=1)
    payload = uuid.uuid4().hex.encode()

    async def run() -> bytes:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            await producer.send_and_wait(topic, payload, key=b"k")
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap_servers, group_id=new_group(),
                                    auto_offset_reset="earliest")
        await consumer.start()
        try:
            message = await asyncio.wait_for(consumer.getone(), timeout=15)
            return message.value
        finally:
            await consumer.stop()

    assert asyncio.run(run()) == payload


def test_postgis_answers_a_spatial_query(database_url):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        # Bodø to Narvik, geodesic on the WGS84 spheroid: about 181 km.
        cur.execute(
            "SELECT ST_Distance(ST_MakePoint(14.405, 67.280)::geography, ST_MakePoint(17.427, 68.438)::geography),"
            " ST_Contains(ST_MakeEnvelope(14, 67, 15, 68, 4326), ST_SetSRID(ST_MakePoint(14.405, 67.28), 4326))"
        )
        metres, inside = cur.fetchone()
    conn.close()
    assert 175_000 < metres < 190_000
    assert inside is True


@pytest.fixture
def scratch_database(database_url):
    """A fresh, empty database on the same server (the veiviser role may create databases)."""
    name = f"scratch_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(database_url)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    yield database_url.rsplit("/", 1)[0] + "/" + name
    admin.cursor().execute(f"DROP DATABASE {name} WITH (FORCE)")
    admin.close()


def test_migrations_apply_once_in_order_and_refuse_edited_files(scratch_database, tmp_path):
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE a (id int);")
    (tmp_path / "0002_second.sql").write_text("INSERT INTO a VALUES (1);")
    assert [m.version for m in apply_migrations(scratch_database, tmp_path)] == [1, 2]
    assert apply_migrations(scratch_database, tmp_path) == []  # idempotent: nothing applied twice
    with psycopg2.connect(scratch_database) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM a")
        assert cur.fetchone()[0] == 1
    conn.close()

    (tmp_path / "0002_second.sql").write_text("INSERT INTO a VALUES (2);")
    with pytest.raises(MigrationError, match="0002_second.sql was applied but its contents have changed"):
        apply_migrations(scratch_database, tmp_path)


def test_a_failing_migration_is_rolled_back_and_named(scratch_database, tmp_path):
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE b (id int);")
    (tmp_path / "0002_broken.sql").write_text("CREATE TABLE c (id int); SELECT * FROM no_such_table;")
    with pytest.raises(MigrationError, match="0002_broken.sql failed and was rolled back"):
        apply_migrations(scratch_database, tmp_path)
    with psycopg2.connect(scratch_database) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('c'), to_regclass('b')")
        assert cur.fetchone() == (None, "b")
        cur.execute("SELECT version FROM schema_migrations")
        assert cur.fetchall() == [(1,)]
    conn.close()
