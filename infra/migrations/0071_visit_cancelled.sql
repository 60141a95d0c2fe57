-- planning: a visit can be cancelled (its case closed, or a newer follow-up of the case replaced it).
ALTER TABLE planning_visits DROP CONSTRAINT IF EXISTS planning_visits_status_check;
ALTER TABLE planning_visits ADD CONSTRAINT planning_visits_status_check CHECK (status IN
    ('open', 'planned', 'started', 'completed', 'failed', 'escalated', 'cancelled'));
