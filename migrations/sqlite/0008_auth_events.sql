-- Issue 11: sign-in and sign-up throttling, in the database so that every web process counts
-- together. One row per event: a failed sign-in, an address's turn to try again after a wait
-- (`at` is when the turn comes), a sign-up request. Rows older than an hour are dropped.
CREATE TABLE auth_events (
    kind    TEXT NOT NULL,
    account TEXT NOT NULL,
    address TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX auth_events_by_account ON auth_events (kind, account, address, at);
CREATE INDEX auth_events_by_address ON auth_events (kind, address, at);
CREATE INDEX auth_events_by_time ON auth_events (at);
