-- asn_versions lists the complete versions of asn_ranges: a row is written
-- after every range of its version is stored, with the number of ranges so
-- a reader can tell a version that is being reloaded. Loading a version
-- again replaces its row (the latest loaded_at wins, read with FINAL).
CREATE TABLE IF NOT EXISTS asn_versions
(
    version   Date,
    source    String,
    format    String,
    ranges    UInt64,
    loaded_at DateTime
)
ENGINE = ReplacingMergeTree(loaded_at)
ORDER BY version
