-- The worker claims the oldest emails still waiting (`outbox::model::claim_due`: queued or
-- retrying, in id order). Sent rows stay in the table, so walking the primary key in id order and
-- skipping them reads every email ever sent; PostgreSQL chose that walk whenever its statistics
-- were taken while many rows waited (measured: 50-70 ms a claim over 8,000 rows, during the write
-- mix). This index holds only the waiting rows, in the order they are claimed.
CREATE INDEX outbox_waiting ON outbox (id) WHERE state IN ('queued', 'retrying');
