-- Event types the platform defines beside the built-in catalog (which ships in the binary).
-- Rows are never deleted: a type is deprecated instead (hidden from new subscriptions, still
-- accepted and delivered). Every change bumps `revision`, so SUM(revision) only grows: each
-- process compares it with its in-memory catalog to see whether another process changed it.
CREATE TABLE event_types (
    name          TEXT PRIMARY KEY,
    description   TEXT NOT NULL,
    -- The JSON Schema as given; NULL: derived from the sample.
    json_schema   TEXT,
    sample        TEXT NOT NULL,
    deprecated_at BIGINT,
    revision      BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
