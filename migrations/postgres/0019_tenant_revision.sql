-- Ingest keeps each tenant's row and endpoints in memory and uses them only at the revision it
-- has just read with the API key, so a change made by any process is seen by the next event.
-- These triggers bump the revision on every change to the tenant and on every change to its
-- endpoints that ingest reads (added, removed, status, subscriptions, filter); health counters
-- the delivery engine updates on each failure leave it alone.
ALTER TABLE tenants ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION tenants_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.revision = OLD.revision THEN
        NEW.revision := OLD.revision + 1;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER tenants_revision BEFORE UPDATE ON tenants FOR EACH ROW EXECUTE FUNCTION tenants_revision();

CREATE FUNCTION endpoints_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE tenants SET revision = revision + 1 WHERE id = OLD.tenant_id;
    ELSE
        UPDATE tenants SET revision = revision + 1 WHERE id = NEW.tenant_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER endpoints_added_removed_revision AFTER INSERT OR DELETE ON endpoints
    FOR EACH ROW EXECUTE FUNCTION endpoints_revision();
CREATE TRIGGER endpoints_changed_revision AFTER UPDATE OF status, event_types, filter, tenant_id ON endpoints
    FOR EACH ROW EXECUTE FUNCTION endpoints_revision();
