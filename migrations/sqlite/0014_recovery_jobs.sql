-- Recovery as a managed job: a paced, cancellable resend of an endpoint's failed or skipped
-- deliveries that survives restarts. The cursor is the last original queued (created_at, id);
-- replays point back at their job, so a cancel can withdraw the ones not yet sent.
CREATE TABLE recovery_jobs (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    endpoint_id     TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    status          TEXT NOT NULL,
    source_status   TEXT NOT NULL,
    event_type      TEXT,
    since           INTEGER NOT NULL,
    until           INTEGER NOT NULL,
    rate_per_second INTEGER NOT NULL,
    total           INTEGER NOT NULL,
    done            INTEGER NOT NULL DEFAULT 0,
    failed          INTEGER NOT NULL DEFAULT 0,
    cursor_at       INTEGER NOT NULL,
    cursor_id       TEXT NOT NULL DEFAULT '',
    next_run_at     INTEGER NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    error           TEXT
);
CREATE INDEX recovery_jobs_by_tenant ON recovery_jobs (tenant_id, created_at);
-- At most one running job per endpoint.
CREATE UNIQUE INDEX recovery_jobs_one_running ON recovery_jobs (endpoint_id) WHERE status = 'running';
ALTER TABLE deliveries ADD COLUMN job_id TEXT;
CREATE INDEX deliveries_by_job ON deliveries (job_id) WHERE job_id IS NOT NULL;
