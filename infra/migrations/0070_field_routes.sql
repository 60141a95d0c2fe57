-- planning: field workers' shifts, mobile visits, and the day routes planned for them (streams.plans).
-- Written by the planner (veiviser worker planner); read by the field staff service through
-- streams.plans.worker_route / visit_owner. Visit coordinates are personal data: only the planner and the
-- assigned worker's own route read them, and they are never stored for a protected-address person's home
-- (such a visit is escalated without coordinates). Clock times are local (Europe/Oslo).

-- one row per worker and shift date (the compacted veiviser.field-shifts.v1 keyed worker_id:shift_date)
CREATE TABLE IF NOT EXISTS planning_shifts (
    worker_id          text             NOT NULL,
    shift_date         date             NOT NULL,
    team_id            text             NOT NULL,
    available          boolean          NOT NULL,
    starts             time             NOT NULL,
    ends               time             NOT NULL,
    base_lon           double precision NOT NULL,
    base_lat           double precision NOT NULL,
    skills             jsonb            NOT NULL DEFAULT '[]'::jsonb,   -- services the worker handles
    languages          jsonb            NOT NULL DEFAULT '[]'::jsonb,
    youth_specialist   boolean          NOT NULL DEFAULT false,
    max_route_minutes  integer          CHECK (max_route_minutes IS NULL OR max_route_minutes > 0),
    event_id           uuid,
    updated_at         timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (worker_id, shift_date)
);
CREATE INDEX IF NOT EXISTS planning_shifts_team_day ON planning_shifts (team_id, shift_date);

-- a mobile visit: visit_id is the follow-up id of the mobile-visit follow-up that asked for it
CREATE TABLE IF NOT EXISTS planning_visits (
    visit_id          text             PRIMARY KEY,
    case_id           text             NOT NULL,
    team_id           text             NOT NULL,
    status            text             NOT NULL CHECK (status IN
                          ('open', 'planned', 'started', 'completed', 'failed', 'escalated')),
    reason            text,
    location_kind     text             NOT NULL CHECK (location_kind IN ('home', 'work', 'school')),
    lon               double precision,
    lat               double precision,
    purpose           text             NOT NULL,
    priority          integer          NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 100),
    duration_minutes  integer          NOT NULL CHECK (duration_minutes > 0),
    language          text,            -- the visit needs a worker who speaks it
    needs_youth       boolean          NOT NULL DEFAULT false,
    attempts          integer          NOT NULL DEFAULT 0,
    first_offered     date             NOT NULL,
    next_offer        date,
    latest            date,            -- the last day the visit may take place
    worker_id         text,            -- the worker of the current plan (or of the last attempt)
    shift_date        date,
    started_at        timestamptz,
    finished_at       timestamptz,
    followup          jsonb            NOT NULL DEFAULT '{}'::jsonb,  -- the follow-up as received (no coordinates)
    created_at        timestamptz      NOT NULL DEFAULT now(),
    updated_at        timestamptz      NOT NULL DEFAULT now(),
    CHECK ((lon IS NULL) = (lat IS NULL))
);
CREATE INDEX IF NOT EXISTS planning_visits_team_status ON planning_visits (team_id, status);
CREATE INDEX IF NOT EXISTS planning_visits_case ON planning_visits (case_id);

-- a worker's route for one shift date; a re-plan adds a new version and retires the current one
CREATE TABLE IF NOT EXISTS planning_route_plans (
    plan_id          uuid             PRIMARY KEY,
    team_id          text             NOT NULL,
    worker_id        text             NOT NULL,
    shift_date       date             NOT NULL,
    version          integer          NOT NULL,
    planned_at       timestamptz      NOT NULL DEFAULT now(),
    is_current       boolean          NOT NULL,
    stops            integer          NOT NULL,
    travel_minutes   double precision NOT NULL,
    service_minutes  double precision NOT NULL,
    solver           text             NOT NULL,
    UNIQUE (worker_id, shift_date, version)
);
CREATE UNIQUE INDEX IF NOT EXISTS planning_route_plans_one_current
    ON planning_route_plans (worker_id, shift_date) WHERE is_current;
CREATE INDEX IF NOT EXISTS planning_route_plans_team_day ON planning_route_plans (team_id, shift_date);

CREATE TABLE IF NOT EXISTS planning_route_stops (
    plan_id    uuid        NOT NULL REFERENCES planning_route_plans (plan_id) ON DELETE CASCADE,
    seq        integer     NOT NULL,
    visit_id   text        NOT NULL REFERENCES planning_visits (visit_id),
    eta        timestamptz NOT NULL,
    departure  timestamptz NOT NULL,
    fixed      boolean     NOT NULL DEFAULT false,   -- already started or done when planned: kept in place
    PRIMARY KEY (plan_id, seq)
);
CREATE INDEX IF NOT EXISTS planning_route_stops_visit ON planning_route_stops (visit_id);

-- effectively once: every event the planner handled, recorded in the transaction that applied it
CREATE TABLE IF NOT EXISTS planning_processed_events (
    consumer      text        NOT NULL,
    event_id      text        NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
