-- units is the per-unit log: one record per unit written after its rows are
-- stored (done), when it is dead-lettered (failed), or when a failed unit is
-- queued again by `coordinator retry` (queued). A unit may write several
-- records; the latest finished_at wins (read with FINAL).
CREATE TABLE IF NOT EXISTS units
(
    scan        String,
    unit        String,
    seq         UInt32,
    state       Enum8('done' = 1, 'failed' = 2, 'queued' = 3),
    addresses   UInt32,
    ok          UInt32,
    nxdomain    UInt32,
    nodata      UInt32,
    servfail    UInt32,
    refused     UInt32,
    timeout     UInt32,
    ptrs        UInt32,
    pruned      UInt32,
    queries     UInt64,
    rows        UInt32,
    worker      String,
    attempt     UInt32,
    error       String,
    started_at  DateTime,
    finished_at DateTime
)
ENGINE = ReplacingMergeTree(finished_at)
ORDER BY (scan, unit)
