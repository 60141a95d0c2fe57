-- services/operators: an index of the dead-letter topic (metadata only: the value, which may hold personal
-- data, stays on the topic and is read from there when viewed or replayed), what operators did to each dead
-- letter, and the audit of who did it, when and why.
CREATE TABLE IF NOT EXISTS operators_dead_letters (
    dl_topic          text NOT NULL,
    dl_partition      integer NOT NULL,
    dl_offset         bigint NOT NULL,
    dead_at           timestamptz NOT NULL,
    source            text NOT NULL,
    stage             text NOT NULL DEFAULT '',
    outcome           text NOT NULL DEFAULT '',
    reason            text NOT NULL,
    problems          jsonb NOT NULL DEFAULT '[]',
    error             text NOT NULL DEFAULT '',
    origin_topic      text,
    origin_partition  integer,
    origin_offset     bigint,
    event_name        text,
    event_id          uuid,
    value_bytes       integer NOT NULL,
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replayed', 'discarded')),
    replays           integer NOT NULL DEFAULT 0,
    generation        integer NOT NULL DEFAULT 0,   -- 0: a first failure; n: the n-th replay failed again
    parent_partition  integer,                      -- the dead letter whose replay this is (same dl_topic)
    parent_offset     bigint,
    indexed_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dl_topic, dl_partition, dl_offset)
);
CREATE INDEX IF NOT EXISTS operators_dead_letters_time ON operators_dead_letters (dl_topic, dead_at DESC);
CREATE INDEX IF NOT EXISTS operators_dead_letters_origin
    ON operators_dead_letters (origin_topic, origin_partition, origin_offset);

-- How far the index has read each partition of a dead-letter topic.
CREATE TABLE IF NOT EXISTS operators_dead_letter_positions (
    dl_topic      text NOT NULL,
    dl_partition  integer NOT NULL,
    next_offset   bigint NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dl_topic, dl_partition)
);

-- Every operator action: replay (target: where the copy was written), discard, and viewing a value unmasked.
CREATE TABLE IF NOT EXISTS operators_audit (
    audit_id          bigserial PRIMARY KEY,
    at                timestamptz NOT NULL DEFAULT now(),
    actor             text NOT NULL,
    role              text NOT NULL,
    action            text NOT NULL CHECK (action IN ('replay', 'discard', 'view_unmasked')),
    forced            boolean NOT NULL DEFAULT false,
    why               text NOT NULL DEFAULT '',
    dl_topic          text NOT NULL,
    dl_partition      integer NOT NULL,
    dl_offset         bigint NOT NULL,
    target_topic      text,
    target_partition  integer,
    target_offset     bigint
);
CREATE INDEX IF NOT EXISTS operators_audit_letter ON operators_audit (dl_topic, dl_partition, dl_offset);
CREATE INDEX IF NOT EXISTS operators_audit_target ON operators_audit (target_topic, target_partition, target_offset)
    WHERE action = 'replay';
