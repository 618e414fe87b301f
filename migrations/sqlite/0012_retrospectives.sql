-- The retrospective a room gets each time it closes: its milestones and coordination measures
-- frozen at that moment, and what went well and what to change — written by the lead and aligned
-- by the PMs on the exact revision, as a leadership update is.
CREATE TABLE retrospectives (
    id         INTEGER PRIMARY KEY,
    room_id    BIGINT NOT NULL REFERENCES rooms (id),
    taken_at   BIGINT NOT NULL,
    milestones TEXT   NOT NULL,
    measures   TEXT   NOT NULL,
    went_well  TEXT   NOT NULL DEFAULT '',
    to_change  TEXT   NOT NULL DEFAULT '',
    revision   BIGINT NOT NULL DEFAULT 0,
    written_by BIGINT REFERENCES users (id),
    written_at BIGINT
);
CREATE INDEX retrospectives_room ON retrospectives (room_id, id);

-- A PM's alignment on one revision of a retrospective.
CREATE TABLE retro_alignments (
    retrospective_id BIGINT NOT NULL REFERENCES retrospectives (id),
    user_id          BIGINT NOT NULL REFERENCES users (id),
    revision         BIGINT NOT NULL,
    aligned_at       BIGINT NOT NULL,
    PRIMARY KEY (retrospective_id, user_id)
);
