-- One-time dashboard links: a platform key signs one person into one tenant's dashboard (to
-- embed it in the platform's own admin). Only the SHA-256 digest of the link's token is kept;
-- a link works once (used_at) and until expires_at.
CREATE TABLE dashboard_links (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX dashboard_links_by_expiry ON dashboard_links (expires_at);
