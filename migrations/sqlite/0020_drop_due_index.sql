-- Claims find due deliveries endpoint by endpoint (deliveries_due_by_endpoint); this index by
-- time alone only served the due-backlog gauge, which that one serves as well, and every
-- delivery queued, claimed or recorded paid for keeping it.
DROP INDEX deliveries_due;
