-- Two coordination measures kept as data rather than read back from timeline text.
--
-- A refused customer send, with the kinds of its blockers (comma-separated, e.g.
-- `not_aligned,paused`), for "sends blocked by reason". Sends refused before this migration are
-- kept with the reason `unrecorded`.
CREATE TABLE blocked_sends (
    id         INTEGER PRIMARY KEY,
    room_id    BIGINT NOT NULL REFERENCES rooms (id),
    draft_id   BIGINT REFERENCES drafts (id),
    by_user_id BIGINT REFERENCES users (id),
    blocked_at BIGINT NOT NULL,
    reasons    TEXT   NOT NULL
);
CREATE INDEX blocked_sends_room ON blocked_sends (room_id);

INSERT INTO blocked_sends (room_id, by_user_id, blocked_at, reasons)
SELECT room_id, actor_user_id, at, 'unrecorded' FROM timeline_events
WHERE kind = 'drafts.send_blocked';

-- A question stopped by the ledger's "already asked?" check: someone tried to record it, was
-- shown similar questions, and has not (yet) asked it anyway. One row per person, room and
-- wording (a SHA-256 of the normalised text; the text itself is not kept twice); when they ask
-- it anyway, `asked_question_id` names the question, and it no longer counts as avoided.
CREATE TABLE similar_question_checks (
    id                INTEGER PRIMARY KEY,
    room_id           BIGINT NOT NULL REFERENCES rooms (id),
    user_id           BIGINT NOT NULL REFERENCES users (id),
    body_digest       TEXT   NOT NULL,
    shown_at          BIGINT NOT NULL,
    asked_question_id BIGINT REFERENCES questions (id),
    UNIQUE (room_id, user_id, body_digest)
);
