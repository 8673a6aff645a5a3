-- Sign-ups waiting for their email address to be confirmed; the user and the tenant are only
-- created when the link is followed. The link's token is stored as its SHA-256 digest.
CREATE TABLE sign_up_requests (
    token_hash    TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    tenant_name   TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX sign_up_requests_by_email ON sign_up_requests (email);
CREATE INDEX sign_up_requests_by_expiry ON sign_up_requests (expires_at);
