-- The log filtered by status or event type: without these, a rare (or absent) value walks the
-- tenant's whole time range row by row (250 ms over 1M deliveries on SQLite; see `herald bench logs`).
CREATE INDEX deliveries_by_status ON deliveries (tenant_id, status, created_at, id);
CREATE INDEX deliveries_by_event_type ON deliveries (tenant_id, event_type, created_at, id);
