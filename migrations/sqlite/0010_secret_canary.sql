-- A known value sealed with the server key at first start: a later start with another key
-- fails to open it and refuses to run, instead of failing secret by secret.
CREATE TABLE secret_canary (
    id         INTEGER PRIMARY KEY,
    sealed     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
