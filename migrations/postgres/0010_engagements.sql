-- Coordinate before engaging: a voice per workstream, calls and meetings planned and cleared by
-- that voice with one bundled list of questions, holds any member may ask for, and touches that
-- say whether they were coordinated.

-- Who speaks to the customer on this workstream's topic in calls and meetings (NULL: its driver).
ALTER TABLE workstreams ADD COLUMN voice_user_id BIGINT REFERENCES users (id);

-- A planned call, meeting, visit or chat with some of the customer's contacts on one topic.
-- `planned` until the topic's voice (or the communicator) clears it; `done` once its outcome is
-- recorded. `sequence` is the calendar invitation's SEQUENCE: it grows with every change sent.
CREATE TABLE engagements (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id          BIGINT NOT NULL REFERENCES rooms (id),
    workstream_id    BIGINT NOT NULL REFERENCES workstreams (id),
    kind             TEXT   NOT NULL CHECK (kind IN ('call', 'meeting', 'visit', 'chat')),
    starts_at        BIGINT NOT NULL,
    minutes          BIGINT NOT NULL,
    purpose          TEXT   NOT NULL,
    state            TEXT   NOT NULL CHECK (state IN ('planned', 'cleared', 'done', 'cancelled')),
    planned_by       BIGINT NOT NULL REFERENCES users (id),
    planned_at       BIGINT NOT NULL,
    cleared_by       BIGINT REFERENCES users (id),
    cleared_at       BIGINT,
    override_reason  TEXT   NOT NULL DEFAULT '',
    sequence         BIGINT NOT NULL DEFAULT 0,
    outcome          TEXT   NOT NULL DEFAULT '',
    outcome_by       BIGINT REFERENCES users (id),
    outcome_at       BIGINT,
    cancelled_reason TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX engagements_room ON engagements (room_id, starts_at);

-- Whom it engages (contacts belong to the customer: collisions are found across its rooms).
CREATE TABLE engagement_contacts (
    engagement_id BIGINT NOT NULL REFERENCES engagements (id),
    contact_id    BIGINT NOT NULL REFERENCES contacts (id),
    PRIMARY KEY (engagement_id, contact_id)
);
CREATE INDEX engagement_contacts_contact ON engagement_contacts (contact_id);

-- The members taking part (the planner, the voice, whoever joined): they get the invitation.
CREATE TABLE engagement_participants (
    engagement_id BIGINT NOT NULL REFERENCES engagements (id),
    user_id       BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (engagement_id, user_id)
);

-- The ledger questions to ask on it, and who put each on the list.
CREATE TABLE engagement_questions (
    engagement_id BIGINT NOT NULL REFERENCES engagements (id),
    question_id   BIGINT NOT NULL REFERENCES questions (id),
    added_by      BIGINT NOT NULL REFERENCES users (id),
    added_at      BIGINT NOT NULL,
    PRIMARY KEY (engagement_id, question_id)
);

-- A question answered on a call links to the engagement it was answered in.
ALTER TABLE questions ADD COLUMN answered_in_engagement BIGINT REFERENCES engagements (id);

-- A touch written by an engagement's outcome links to it; one logged by hand after the fact
-- was not coordinated (1), and the room's record says so.
ALTER TABLE contact_touches ADD COLUMN engagement_id BIGINT REFERENCES engagements (id);
ALTER TABLE contact_touches ADD COLUMN uncoordinated BIGINT NOT NULL DEFAULT 0;

-- Holds: any member may ask for one (`requested`); the lead or communicator grants it (it is then
-- the room's pause) or declines it with a reason. A pause may name a resume condition — a time,
-- or a workstream reaching a status — that makes it "ready to resume" (never resumed silently).
ALTER TABLE outreach_pauses ADD COLUMN state TEXT NOT NULL DEFAULT 'granted' CHECK (state IN ('requested', 'granted', 'declined'));
ALTER TABLE outreach_pauses ADD COLUMN granted_by BIGINT REFERENCES users (id);
ALTER TABLE outreach_pauses ADD COLUMN declined_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE outreach_pauses ADD COLUMN resume_at BIGINT;
ALTER TABLE outreach_pauses ADD COLUMN resume_workstream_id BIGINT REFERENCES workstreams (id);
ALTER TABLE outreach_pauses ADD COLUMN resume_status TEXT;
