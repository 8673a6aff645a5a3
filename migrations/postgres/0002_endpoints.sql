-- Endpoints, with their secrets sealed (XChaCha20-Poly1305 under HERALD_SECRET_KEY).
CREATE TABLE endpoints (
    id                         TEXT PRIMARY KEY,
    tenant_id                  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name                       TEXT NOT NULL,
    description                TEXT NOT NULL DEFAULT '',
    url                        TEXT NOT NULL DEFAULT '',
    method                     TEXT NOT NULL DEFAULT 'POST',
    auth_header_name           TEXT,
    auth_header_value          TEXT,
    event_types                TEXT NOT NULL,
    payload_shape              TEXT NOT NULL DEFAULT 'envelope',
    channel                    TEXT NOT NULL DEFAULT 'http',
    email                      TEXT,
    secret                     TEXT NOT NULL,
    previous_secret            TEXT,
    previous_secret_expires_at BIGINT,
    status                     TEXT NOT NULL DEFAULT 'active',
    inactive_reason            TEXT,
    inactive_since             BIGINT,
    consecutive_failures       BIGINT NOT NULL DEFAULT 0,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL
);
CREATE INDEX endpoints_by_tenant ON endpoints (tenant_id, created_at);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_by   TEXT,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at);
