-- Issue 6/7: what the log, raw view, stats and archival need.

-- Archival (60 days by default) empties bodies but keeps the row; the log greys such rows out.
ALTER TABLE deliveries ADD COLUMN archived_at BIGINT;

-- The request as sent on each attempt: method, URL and headers, secrets already masked.
ALTER TABLE attempts ADD COLUMN request TEXT;

-- Per endpoint and hour: requests sent, how they ended, and a latency histogram, so stats over
-- 30 days read at most 720 rows per endpoint however many deliveries there were.
-- lat_NN counts attempts at or under the NNth bound of domain::stats::LATENCY_BOUNDS_MS
-- (10, 25, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2000, 5000, 10000 ms); the last one counts the slower rest.
CREATE TABLE endpoint_stats (
    endpoint_id     TEXT NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
    hour            BIGINT NOT NULL,
    sent            BIGINT NOT NULL DEFAULT 0,
    succeeded       BIGINT NOT NULL DEFAULT 0,
    failed          BIGINT NOT NULL DEFAULT 0,
    gave_up         BIGINT NOT NULL DEFAULT 0,
    lat_00          BIGINT NOT NULL DEFAULT 0,
    lat_01          BIGINT NOT NULL DEFAULT 0,
    lat_02          BIGINT NOT NULL DEFAULT 0,
    lat_03          BIGINT NOT NULL DEFAULT 0,
    lat_04          BIGINT NOT NULL DEFAULT 0,
    lat_05          BIGINT NOT NULL DEFAULT 0,
    lat_06          BIGINT NOT NULL DEFAULT 0,
    lat_07          BIGINT NOT NULL DEFAULT 0,
    lat_08          BIGINT NOT NULL DEFAULT 0,
    lat_09          BIGINT NOT NULL DEFAULT 0,
    lat_10          BIGINT NOT NULL DEFAULT 0,
    lat_11          BIGINT NOT NULL DEFAULT 0,
    lat_12          BIGINT NOT NULL DEFAULT 0,
    lat_13          BIGINT NOT NULL DEFAULT 0,
    lat_14          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (endpoint_id, hour)
);
