-- Replays point at their original; the log shows how often a delivery was replayed.
CREATE INDEX deliveries_by_original ON deliveries (replay_of) WHERE replay_of IS NOT NULL;
