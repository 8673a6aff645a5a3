-- Messages (accepted events) and their deliveries; the deliveries table is also the queue:
-- a due row has next_attempt_at <= now and no live lease.
CREATE TABLE messages (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    event_id    TEXT,
    event_type  TEXT NOT NULL,
    payload     TEXT,
    created_at  INTEGER NOT NULL,
    archived_at INTEGER
);
CREATE UNIQUE INDEX messages_idempotency ON messages (tenant_id, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX messages_by_tenant ON messages (tenant_id, created_at);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    endpoint_id      TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    message_id       TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    event_type       TEXT NOT NULL,
    status           TEXT NOT NULL,
    kind             TEXT NOT NULL DEFAULT 'event',
    replay_of        TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    lease_until      INTEGER,
    last_status_code INTEGER,
    last_duration_ms INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    completed_at     INTEGER
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX deliveries_by_endpoint ON deliveries (endpoint_id, created_at, id);
CREATE INDEX deliveries_by_tenant ON deliveries (tenant_id, created_at, id);
CREATE INDEX deliveries_by_message ON deliveries (message_id);

CREATE TABLE attempts (
    id               TEXT PRIMARY KEY,
    delivery_id      TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    attempted_at     INTEGER NOT NULL,
    duration_ms      INTEGER NOT NULL,
    status_code      INTEGER,
    response_headers TEXT,
    response_body    TEXT,
    error            TEXT
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id, attempted_at);
