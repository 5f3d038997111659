-- asn_ranges holds IP-to-ASN/country tables (internal/enrich), one version
-- per data date: sorted, non-overlapping IPv4 ranges [ip_start, ip_end]
-- (UInt32 as IPv4StringToNum), each with its routed network (longest match
-- of the source data), origin AS, AS name and country ('' when unknown).
-- A version is one partition: loading a version again drops the partition
-- first, so a version never mixes two loads. asn_versions records a version
-- once all its rows are stored. Look an address up with
--   WHERE version = V AND ip_start <= ip ORDER BY ip_start DESC LIMIT 1
-- (then check ip <= ip_end); ip_start is the primary key.
CREATE TABLE IF NOT EXISTS asn_ranges
(
    version  Date,
    ip_start UInt32,
    ip_end   UInt32,
    net      String,
    asn      UInt32,
    as_name  String,
    country  String
)
ENGINE = MergeTree
PARTITION BY version
ORDER BY ip_start
