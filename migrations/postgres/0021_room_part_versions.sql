-- A version per group of the room page's parts, so that a change re-reads only the parts it can
-- alter: every change bumps `version` (what live pages compare) and sets the group versions it
-- writes to the new version — all four unless it says which (`rooms::parts`).
ALTER TABLE rooms ADD COLUMN decisions_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN touches_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN email_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN rest_version BIGINT NOT NULL DEFAULT 0;
