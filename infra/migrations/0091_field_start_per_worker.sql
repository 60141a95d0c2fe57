-- services/field: a visit's 'start' is recorded per worker. A worker who calls in sick after starting a visit
-- hands it back (the planner offers it again); the colleague who takes it over the same day starts it anew.
-- A visit still has one outcome ('finish') a day, whoever records it.
ALTER TABLE field_visit_actions DROP CONSTRAINT IF EXISTS field_visit_actions_pkey;
ALTER TABLE field_visit_actions ADD CONSTRAINT field_visit_actions_pkey PRIMARY KEY (visit_id, shift_date, step, worker_id);
CREATE UNIQUE INDEX IF NOT EXISTS field_visit_actions_one_outcome ON field_visit_actions (visit_id, shift_date)
    WHERE step = 'finish';
