-- scans describes every planned scan; re-saving a scan replaces it (the
-- latest created_at wins, read with FINAL).
CREATE TABLE IF NOT EXISTS scans
(
    name           String,
    cidrs          Array(String),
    excludes       Array(String),
    allow_reserved UInt8,
    unit_prefix    UInt8,
    units          UInt64,
    addresses      UInt64,
    confirm        UInt8,
    no_prune       UInt8,
    created_at     DateTime
)
ENGINE = ReplacingMergeTree(created_at)
ORDER BY name
