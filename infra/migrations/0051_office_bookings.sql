-- streams: appointments booked per service point and day, shared by every router worker. Written by the
-- ledger in the same transaction as the booking or cancellation event that changes it (an upsert that adds
-- the batch's net change), read at the start of each batch so routing sees the capacity already used.
-- consumer: the ledger consumer (router deployment) that counts them, as in streams_processed_events.
CREATE TABLE IF NOT EXISTS streams_office_bookings (
    consumer    text        NOT NULL,
    point_id    text        NOT NULL,
    day         date        NOT NULL,
    booked      integer     NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, point_id, day)
);
