-- Ingest keeps each tenant's row and endpoints in memory and uses them only at the revision it
-- has just read with the API key, so a change made by any process is seen by the next event.
-- These triggers bump the revision on every change to the tenant and on every change to its
-- endpoints that ingest reads (added, removed, status, subscriptions, filter); health counters
-- the delivery engine updates on each failure leave it alone.
ALTER TABLE tenants ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER tenants_revision AFTER UPDATE ON tenants WHEN NEW.revision = OLD.revision
BEGIN
    UPDATE tenants SET revision = OLD.revision + 1 WHERE id = NEW.id;
END;

CREATE TRIGGER endpoints_added_revision AFTER INSERT ON endpoints
BEGIN
    UPDATE tenants SET revision = revision + 1 WHERE id = NEW.tenant_id;
END;

CREATE TRIGGER endpoints_removed_revision AFTER DELETE ON endpoints
BEGIN
    UPDATE tenants SET revision = revision + 1 WHERE id = OLD.tenant_id;
END;

CREATE TRIGGER endpoints_changed_revision AFTER UPDATE OF status, event_types, filter, tenant_id ON endpoints
BEGIN
    UPDATE tenants SET revision = revision + 1 WHERE id = NEW.tenant_id;
END;
