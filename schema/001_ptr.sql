-- ptr holds one row per (scan, ip, ptr): every PTR of an address with status
-- ok, or the outcome of an address without a PTR to show (ptr = '', rname = '').
-- rname is the PTR name with its labels reversed (net.ipip.security.scan-30);
-- it leads the sort key so a suffix search is a primary-key range. rname is a
-- function of ptr, so (scan, ip, ptr) is the row's identity: re-inserted rows
-- collapse within the scan's partition (read with FINAL or LIMIT 1 BY), and
-- the row of the highest attempt wins.
--
-- attempt identifies the delivery that stored the row and grows with every
-- attempt of a unit, also across `coordinator retry`: the message's publish
-- time in milliseconds << 16 | delivery count. Rows of a unit with an attempt below the unit's
-- entry in superseded are stale (see 007_superseded.sql and ptr_current).
-- ClickHouse cannot change an engine's version column: a database created
-- before attempt existed must be replaced (see README.md).
--
-- asn and country are the routing at resolve time: the worker and `coordinator import` fill them from the newest
-- complete IP-to-ASN table (asn_ranges, asn_versions) they have loaded; a
-- worker checks for a newer version every few minutes. 0 and '' when that
-- table has no range for the address or none was loaded yet (rows stored
-- before a table existed keep 0: join asn_ranges for those, see
-- docs/sql.md). GROUP BY asn, country answers "which providers".
CREATE TABLE IF NOT EXISTS ptr
(
    scan        String,
    rname       String,
    ip          UInt32,
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
ORDER BY (rname, ip, scan)
-- Granules of 1024 rows instead of 8192: a suffix search reads one granule
-- in every part of a scan, and at 100M rows that read was most of its
-- time (measured, BENCHMARKS.md). The primary key held in memory grows to
-- about 45 bytes a granule: some 50 MB at 1.2 billion rows. A table
-- created before keeps its granularity (ClickHouse cannot change it).
SETTINGS index_granularity = 1024
