-- ptr_by_ip is ptr sorted by address: the same rows, fed by the
-- materialized view ptr_by_ip_mv on every INSERT into ptr, so looking up an
-- address or a block (coordinator lookup) is a primary-key range instead of
-- a full scan of ptr (whose sort key leads with the reversed name).
-- (ip, scan, ptr) is the row's identity, as in ptr; re-inserted rows
-- collapse (read with FINAL), the highest attempt winning; stale attempts
-- are filtered with the superseded join as for ptr. The view sees only rows inserted after it
-- exists: internal/store copies ptr's earlier rows (INSERT … SELECT) when it
-- creates this table in a database whose ptr table already existed.
CREATE TABLE IF NOT EXISTS ptr_by_ip
(
    ip          UInt32,
    scan        String,
    ptr         String,
    status      Enum8('ok' = 1, 'nxdomain' = 2, 'nodata' = 3, 'servfail' = 4, 'refused' = 5, 'timeout' = 6),
    ttl         UInt32,
    fcrdns      Enum8('' = 0, 'confirmed' = 1, 'mismatch' = 2, 'no_address' = 3, 'error' = 4, 'numeric' = 5),
    unit        String,
    resolved_at DateTime,
    attempt     UInt64,
    asn         UInt32 DEFAULT 0,
    country     String DEFAULT ''
)
ENGINE = ReplacingMergeTree(attempt)
PARTITION BY scan
ORDER BY (ip, scan, ptr)
