-- ptr_by_ip_mv copies every row inserted into ptr to ptr_by_ip (see
-- 020_ptr_by_ip.sql). Its column list is explicit, so columns added to ptr
-- later do not break it; add them here (and to ptr_by_ip) to carry them.
CREATE MATERIALIZED VIEW IF NOT EXISTS ptr_by_ip_mv TO ptr_by_ip AS
SELECT ip, scan, ptr, status, ttl, fcrdns, unit, resolved_at, attempt, asn, country
FROM ptr
