-- services/field: what field workers did at their stops. One row per visit, route day and step
-- (a visit tried again on a later day is a new attempt):
--   step 'start'  : the worker started the visit (recorded and shown on the route)
--   step 'finish' : the attempt's one outcome, 'completed' or 'failed' (with the reason), published as
--                   visit.completed / visit.failed. The stored event is re-sent unchanged (same event id)
--                   when publishing was not acknowledged, so a double tap or a retry never makes a second
--                   event. status 'pending' = stored, not yet acknowledged by Kafka.
CREATE TABLE IF NOT EXISTS field_visit_actions (
    visit_id        text        NOT NULL,
    shift_date      date        NOT NULL,
    step            text        NOT NULL CHECK (step IN ('start', 'finish')),
    outcome         text        NOT NULL CHECK (outcome IN ('started', 'completed', 'failed')),
    reason          text,
    worker_id       text        NOT NULL,
    case_id         text        NOT NULL,
    acted_at        timestamptz NOT NULL,
    event           jsonb,
    status          text        NOT NULL CHECK (status IN ('recorded', 'pending', 'published')),
    topic           text,
    kafka_partition integer,
    kafka_offset    bigint,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (visit_id, shift_date, step),
    CHECK ((step = 'start') = (outcome = 'started')),
    CHECK ((outcome = 'failed') = (reason IS NOT NULL)),
    CHECK ((status = 'recorded') = (event IS NULL))
);
CREATE INDEX IF NOT EXISTS field_visit_actions_worker_day ON field_visit_actions (worker_id, shift_date);
