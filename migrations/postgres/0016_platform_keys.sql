-- Platform keys (`hkp_…`): the booking platform's credential across every tenant. Only the
-- SHA-256 digest of a key is stored.
CREATE TABLE platform_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_by   TEXT,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX platform_keys_by_created ON platform_keys (created_at);

-- A platform key may invite a tenant's first admin: an invitation's inviter is a user only
-- when a user sent it.
ALTER TABLE invitations ALTER COLUMN invited_by DROP NOT NULL;

-- The platform lists tenants newest first, a page at a time.
CREATE INDEX tenants_by_created ON tenants (created_at, id);
