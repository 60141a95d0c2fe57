-- services/intake: one receipt per event id, so re-sending an event returns the first result and never
-- publishes a duplicate. status 'pending' = claimed by a request that is publishing it now.
CREATE TABLE IF NOT EXISTS intake_receipts (
    event_id         uuid PRIMARY KEY,
    producing_system text NOT NULL,
    body_sha256      bytea NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'accepted')),
    topic            text,
    kafka_partition  integer,
    kafka_offset     bigint,
    claimed_at       timestamptz NOT NULL DEFAULT now(),
    accepted_at      timestamptz
);
