-- streams: the health sampler reads the decisions of the last minutes (end-to-end latency percentiles,
-- streams.health.latency); without this index it scanned the whole audit trail at every sample.
CREATE INDEX IF NOT EXISTS streams_case_audit_decided ON streams_case_audit (recorded_at) WHERE entry = 'decision';
