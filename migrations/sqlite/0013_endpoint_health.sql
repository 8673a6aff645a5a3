-- Endpoint health: each failed attempt's class (dns, timeout, http_5xx, ...), the endpoint's
-- last failure, and since when admins were told it is at risk (cleared, with a "recovered"
-- email, by the next success).
ALTER TABLE attempts ADD COLUMN failure_class TEXT;
ALTER TABLE endpoints ADD COLUMN last_failure_at INTEGER;
ALTER TABLE endpoints ADD COLUMN last_failure_class TEXT;
ALTER TABLE endpoints ADD COLUMN last_failure_code INTEGER;
ALTER TABLE endpoints ADD COLUMN at_risk_since INTEGER;
