-- The room page's contact activity (who touched each of the customer's contacts lately, in any
-- of its rooms) without a statement per view: a counter on each customer, bumped in the
-- transaction that records a touch or adds a contact, and read with the session.
ALTER TABLE customers ADD COLUMN activity_stamp BIGINT NOT NULL DEFAULT 0;
