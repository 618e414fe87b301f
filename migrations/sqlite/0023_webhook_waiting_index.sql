-- The delivery worker claims the oldest delivery still to make (`webhooks::deliver::claim`).
-- Delivered rows stay in the table, and PostgreSQL found the oldest by walking the primary key past
-- all of them whenever its statistics said many were waiting (measured: 18.5 ms over 53,000
-- deliveries, against 0.09 ms through this index). It holds only the rows still to deliver.
CREATE INDEX webhook_deliveries_waiting ON webhook_deliveries (id)
    WHERE state IN ('queued', 'retrying', 'delivering');
