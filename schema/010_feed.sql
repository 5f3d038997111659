-- feed holds each scan's plan cursor. The feeder (coordinator publish and
-- sweep) publishes the plan's units in order and, after the work stream
-- acknowledged a batch, records how many it has published: every unit at a
-- plan position below `published` is in the stream or already finished, and
-- those at [published, published + in_flight) may be (a batch that was being
-- published when the feeder stopped; the next feeder checks each of them).
-- The row with the highest `published` wins: read ORDER BY published DESC
-- LIMIT 1 (or FINAL).
CREATE TABLE IF NOT EXISTS feed
(
    scan       String,
    planned    UInt64,
    published  UInt64,
    in_flight  UInt32,
    updated_at DateTime
)
ENGINE = ReplacingMergeTree(published)
ORDER BY scan
