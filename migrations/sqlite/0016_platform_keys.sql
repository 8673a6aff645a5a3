-- Platform keys (`hkp_…`): the booking platform's credential across every tenant. Only the
-- SHA-256 digest of a key is stored.
CREATE TABLE platform_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_by   TEXT,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX platform_keys_by_created ON platform_keys (created_at);

-- A platform key may invite a tenant's first admin: an invitation's inviter is a user only
-- when a user sent it. SQLite cannot drop NOT NULL in place, so the table is rebuilt.
CREATE TABLE invitations_new (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    invited_by  TEXT REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_at INTEGER
);
INSERT INTO invitations_new (id, tenant_id, email, role, token_hash, invited_by, created_at, expires_at, accepted_at)
    SELECT id, tenant_id, email, role, token_hash, invited_by, created_at, expires_at, accepted_at FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_new RENAME TO invitations;
CREATE INDEX invitations_by_tenant ON invitations (tenant_id, created_at);

-- The platform lists tenants newest first, a page at a time.
CREATE INDEX tenants_by_created ON tenants (created_at, id);
