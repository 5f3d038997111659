-- superseded marks stale rows: an entry (scan, unit, below) says that every
-- ptr row of the unit whose attempt is below `below` belongs to an earlier
-- attempt and must not be read. A worker writes it when it stores a unit that
-- may have been stored before (a redelivery, or a unit queued again by
-- `coordinator retry`): after the unit's rows, before its unit-log record.
-- Only redelivered units get an entry, so the table stays small; reads join
-- it grouped by (scan, unit) with max(below).
CREATE TABLE IF NOT EXISTS superseded
(
    scan  String,
    unit  String,
    below UInt64
)
ENGINE = ReplacingMergeTree(below)
ORDER BY (scan, unit)
