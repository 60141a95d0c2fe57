-- planning: an escalated visit becomes an office appointment request on veiviser.followups.v1.
-- escalated_by: the message that escalated it (a visit.failed event id; NULL: the visit's own follow-up);
-- escalation_sent_at: when the request was sent (NULL while it is still to be sent: sent again after a crash).
ALTER TABLE planning_visits ADD COLUMN IF NOT EXISTS escalated_by text;
ALTER TABLE planning_visits ADD COLUMN IF NOT EXISTS escalation_sent_at timestamptz;
CREATE INDEX IF NOT EXISTS planning_visits_escalation_pending ON planning_visits (team_id)
    WHERE status = 'escalated' AND escalation_sent_at IS NULL;
