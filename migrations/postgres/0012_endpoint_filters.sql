-- Payload filters: an endpoint receives only the events whose envelope matches (JSON, or NULL for all).
ALTER TABLE endpoints ADD COLUMN filter TEXT;
