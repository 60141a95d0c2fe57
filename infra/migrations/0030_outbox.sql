-- events: the transactional outbox. An office system writes its event here in the same PostgreSQL
-- transaction as its own change (events.outbox.enqueue); the relay (events.outbox.OutboxRelay) publishes
-- pending rows in id order and marks them sent. Rows are checked against the contract before insert.
CREATE TABLE IF NOT EXISTS event_outbox (
    id              bigserial PRIMARY KEY,
    event_id        uuid NOT NULL UNIQUE,
    topic           text NOT NULL,
    message_key     bytea NOT NULL,
    value           bytea NOT NULL,
    headers         jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    kafka_partition integer,
    kafka_offset    bigint
);
CREATE INDEX IF NOT EXISTS event_outbox_pending ON event_outbox (id) WHERE sent_at IS NULL;
