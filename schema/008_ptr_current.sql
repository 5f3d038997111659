-- ptr_current is ptr without the rows of superseded attempts: what analysts
-- query instead of ptr. Rows of the same attempt stored twice (an insert
-- retried after a lost reply) can still show twice until parts merge; add
-- FINAL-free deduplication (LIMIT 1 BY scan, ip, ptr) or read ptr FINAL with
-- the same join where that matters. The column list is explicit: SELECT *
-- over the join fails on ClickHouse 18.16 (duplicate columns).
CREATE VIEW IF NOT EXISTS ptr_current AS
SELECT scan, rname, ip, ptr, status, ttl, fcrdns, unit, resolved_at, attempt, asn, country
FROM ptr
ANY LEFT JOIN
(
    SELECT scan, unit, max(below) AS below
    FROM superseded
    GROUP BY scan, unit
) USING (scan, unit)
WHERE attempt >= below
