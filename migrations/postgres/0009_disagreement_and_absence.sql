-- When PMs disagree or one is away: objections, escalations to a named person, stand-ins,
-- reminders, and one-time links to align from the email.

-- A PM's position on one exact revision: aligned, or objected with a reason. `via` says who
-- acted: the PM ('own'), their stand-in while they are away ('stand_in', `acted_by` the stand-in),
-- or an escalation ruling ('ruling', `acted_by` who ruled).
ALTER TABLE approvals ADD COLUMN stance TEXT NOT NULL DEFAULT 'aligned' CHECK (stance IN ('aligned', 'objected'));
ALTER TABLE approvals ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN via TEXT NOT NULL DEFAULT 'own' CHECK (via IN ('own', 'stand_in', 'ruling'));
ALTER TABLE approvals ADD COLUMN acted_by BIGINT REFERENCES users (id);

-- Who settles a disagreement about decisions of this type (NULL: the room's lead).
ALTER TABLE decision_types ADD COLUMN escalates_to_user_id BIGINT REFERENCES users (id);
-- A proposed decision a PM contests, and why.
ALTER TABLE decisions ADD COLUMN contested_by BIGINT REFERENCES users (id);
ALTER TABLE decisions ADD COLUMN contested_reason TEXT NOT NULL DEFAULT '';

-- A PM away from a room until a time, with the member who aligns or objects for them.
CREATE TABLE absences (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id          BIGINT NOT NULL REFERENCES rooms (id),
    user_id          BIGINT NOT NULL REFERENCES users (id),
    stand_in_user_id BIGINT NOT NULL REFERENCES users (id),
    away_until       BIGINT NOT NULL,
    set_at           BIGINT NOT NULL,
    ended_at         BIGINT
);
CREATE INDEX absences_room ON absences (room_id, user_id);

-- A disagreement taken to the escalation point: an objection to a revision, or a contested
-- decision, with both positions and the ruling.
CREATE TABLE escalations (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id          BIGINT NOT NULL REFERENCES rooms (id),
    subject_kind     TEXT   NOT NULL CHECK (subject_kind IN ('draft', 'update', 'decision')),
    subject_id       BIGINT NOT NULL,
    revision         BIGINT NOT NULL DEFAULT 0,
    objector_user_id BIGINT NOT NULL REFERENCES users (id),
    position         TEXT   NOT NULL,
    raised_by        BIGINT NOT NULL REFERENCES users (id),
    raised_at        BIGINT NOT NULL,
    ruled_by         BIGINT REFERENCES users (id),
    ruling           TEXT   NOT NULL DEFAULT '',
    ruling_note      TEXT   NOT NULL DEFAULT '',
    ruled_at         BIGINT
);
CREATE INDEX escalations_room ON escalations (room_id, id);

-- Reminders sent: at most one per person, revision and period, whatever the number of instances.
CREATE TABLE nudges (
    subject_kind TEXT   NOT NULL,
    subject_id   BIGINT NOT NULL,
    revision     BIGINT NOT NULL,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    level        TEXT   NOT NULL CHECK (level IN ('reminder', 'lead')),
    period       BIGINT NOT NULL,
    sent_at      BIGINT NOT NULL,
    PRIMARY KEY (subject_kind, subject_id, revision, user_id, level, period)
);

-- One-time links in alignment emails: bound to a person, a draft or update and one revision.
CREATE TABLE align_links (
    token_digest TEXT   NOT NULL PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    room_id      BIGINT NOT NULL REFERENCES rooms (id),
    subject_kind TEXT   NOT NULL CHECK (subject_kind IN ('draft', 'update')),
    subject_id   BIGINT NOT NULL,
    revision     BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
