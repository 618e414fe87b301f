-- *Needs you* without reading every room of a person: a counter on each person, bumped in the
-- transaction of every change to one of their rooms (and when they join or leave one). The top
-- bar's count is reused while it is unchanged, and it is read with the session in one statement.
ALTER TABLE users ADD COLUMN needs_stamp BIGINT NOT NULL DEFAULT 0;
