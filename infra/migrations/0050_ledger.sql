-- streams: the ledger. Effectively-once processing under at-least-once delivery: a stream consumer records
-- each event id in streams_processed_events in the SAME transaction as the business rows it writes (case
-- state, audit trail, decisions); a redelivered event hits the primary key and changes nothing.
-- Locations in streams_case_state are personal data: only the routing stage reads them; the audit trail
-- and the decisions never hold coordinates.
CREATE TABLE IF NOT EXISTS streams_processed_events (
    consumer          text        NOT NULL,
    event_id          uuid        NOT NULL,
    case_id           text,
    source_topic      text        NOT NULL,
    source_partition  integer     NOT NULL,
    source_offset     bigint      NOT NULL,
    processed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE IF NOT EXISTS streams_case_state (
    case_id        text        PRIMARY KEY,
    status         text        NOT NULL,
    profile        jsonb       NOT NULL,
    locations      jsonb       NOT NULL DEFAULT '[]'::jsonb,
    appointments   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    events_seen    integer     NOT NULL,
    audit_seq      integer     NOT NULL,
    last_event_id  uuid        NOT NULL,
    last_event_at  timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS streams_decisions (
    decision_id   uuid        PRIMARY KEY,
    case_id       text        NOT NULL,
    event_id      uuid        NOT NULL,
    outcome       text        NOT NULL,
    point_id      text,
    team_id       text,
    owner_unit    text,
    explanation   jsonb       NOT NULL,
    followup      jsonb       NOT NULL,
    decided_at    timestamptz NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    is_current    boolean     NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS streams_decisions_one_current ON streams_decisions (case_id) WHERE is_current;
CREATE INDEX IF NOT EXISTS streams_decisions_case ON streams_decisions (case_id, recorded_at);
CREATE INDEX IF NOT EXISTS streams_decisions_event ON streams_decisions (event_id);

-- every event and every decision of a case, in order (seq counts from 1 per case)
CREATE TABLE IF NOT EXISTS streams_case_audit (
    case_id           text        NOT NULL,
    seq               integer     NOT NULL,
    entry             text        NOT NULL CHECK (entry IN ('event', 'decision')),
    event_id          uuid        NOT NULL,
    event_name        text        NOT NULL,
    occurred_at       timestamptz NOT NULL,
    source_partition  integer,
    source_offset     bigint,
    decision_id       uuid,
    detail            jsonb       NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, seq)
);
