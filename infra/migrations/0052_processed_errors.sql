-- streams: why routing failed for a recorded event, so a redelivered copy is dead-lettered again (the dead
-- letter is sent after the ledger commit; a crash in between must not lose it).
ALTER TABLE streams_processed_events ADD COLUMN IF NOT EXISTS error text;
