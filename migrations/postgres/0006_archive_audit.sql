-- Issue 7: archival, the staff consoles and the audit log.

-- Archival looks for a tenant's oldest messages that are not archived yet; this partial index
-- holds only those, so each run costs the same however many rows were archived before.
CREATE INDEX messages_to_archive ON messages (tenant_id, created_at) WHERE archived_at IS NULL;

-- Support searches by event id across tenants.
CREATE INDEX messages_by_event_id ON messages (event_id) WHERE event_id IS NOT NULL;

-- Every change by tenant admins and staff: who, when, what, from where. Kept when the actor's
-- account goes (actor_label keeps the name); the tenant is NULL for platform-wide actions.
-- `seq` orders entries exactly as they were written, even within one millisecond.
CREATE TABLE audit_log (
    seq         BIGSERIAL PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    tenant_id   TEXT,
    actor_id    TEXT,
    actor_label TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT,
    summary     TEXT NOT NULL,
    details     TEXT,
    ip          TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX audit_by_tenant ON audit_log (tenant_id, seq);
CREATE INDEX audit_by_time ON audit_log (created_at);
