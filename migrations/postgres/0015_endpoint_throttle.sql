-- Per-endpoint throttle: at most max_per_second deliveries start in any one second, and at most
-- max_in_flight are being sent at once (NULL: no rate limit / the engine's default). Deliveries
-- of throttled endpoints are claimed one endpoint at a time under its row lock, and record when
-- they were claimed (claimed_at), which is what the rate is counted from.
ALTER TABLE endpoints ADD COLUMN max_per_second BIGINT;
ALTER TABLE endpoints ADD COLUMN max_in_flight BIGINT;
ALTER TABLE deliveries ADD COLUMN claimed_at BIGINT;
CREATE INDEX deliveries_claimed_by_endpoint ON deliveries (endpoint_id, claimed_at) WHERE claimed_at IS NOT NULL;
CREATE INDEX deliveries_due_by_endpoint ON deliveries (endpoint_id, next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX endpoints_throttled ON endpoints (id) WHERE max_per_second IS NOT NULL OR max_in_flight IS NOT NULL;
