-- The IANA time zone each person reads and types times in (NULL: the instance default). Storage
-- stays UTC epoch milliseconds everywhere.
ALTER TABLE users ADD COLUMN time_zone TEXT;
-- A contact's IANA time zone, when known ('' when not): the draft page shows their local time and
-- warns outside their working hours.
ALTER TABLE contacts ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
-- How far sending a customer email (publishing a pre-read) moves the next update due, in hours;
-- NULL follows the severity (S1 24 h, S2 3 days, S3 a week).
ALTER TABLE rooms ADD COLUMN customer_cadence_hours BIGINT;
ALTER TABLE rooms ADD COLUMN leadership_cadence_hours BIGINT;
-- *Needs you* walks a person's rooms by the role they hold there: the communicator's rooms, and
-- the rooms where they are a PM.
CREATE INDEX rooms_communicator ON rooms (communicator_user_id, status);
CREATE INDEX members_user_kind ON members (user_id, kind, room_id);
