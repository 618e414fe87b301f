-- One voice outward: customer email drafts with numbered revisions, PM approvals of exact
-- revisions (shared with leadership updates), room-wide outreach pauses, and the durable outbox.
CREATE TABLE drafts (
    id               INTEGER PRIMARY KEY,
    room_id          BIGINT NOT NULL REFERENCES rooms (id),
    created_by       BIGINT NOT NULL REFERENCES users (id),
    created_at       BIGINT NOT NULL,
    current_revision BIGINT NOT NULL,
    outbox_id        BIGINT
);
CREATE INDEX drafts_room ON drafts (room_id, id);

CREATE TABLE draft_revisions (
    id         INTEGER PRIMARY KEY,
    draft_id   BIGINT NOT NULL REFERENCES drafts (id),
    number     BIGINT NOT NULL,
    to_ids     TEXT   NOT NULL,
    cc_ids     TEXT   NOT NULL,
    subject    TEXT   NOT NULL,
    body       TEXT   NOT NULL,
    author_id  BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    UNIQUE (draft_id, number)
);

-- A PM's "aligned" on one exact revision of a draft or a leadership update: one row per PM per
-- subject, pointing at the revision they aligned on (older than current means stale).
CREATE TABLE approvals (
    subject_kind TEXT   NOT NULL CHECK (subject_kind IN ('draft', 'update')),
    subject_id   BIGINT NOT NULL,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    revision     BIGINT NOT NULL,
    approved_at  BIGINT NOT NULL,
    PRIMARY KEY (subject_kind, subject_id, user_id)
);

CREATE TABLE outreach_pauses (
    id         INTEGER PRIMARY KEY,
    room_id    BIGINT NOT NULL REFERENCES rooms (id),
    reason     TEXT   NOT NULL,
    set_by     BIGINT NOT NULL REFERENCES users (id),
    set_at     BIGINT NOT NULL,
    until      BIGINT,
    ended_by   BIGINT REFERENCES users (id),
    ended_at   BIGINT
);
CREATE INDEX outreach_pauses_room ON outreach_pauses (room_id, id);

-- The durable queue. `raw` is the exact RFC 5322 message (its Message-ID fixed at queueing);
-- `fence` grows with every claim, so a worker that lost its lease cannot mark the row.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT   NOT NULL CHECK (kind IN ('customer', 'notification', 'invitation')),
    room_id         BIGINT REFERENCES rooms (id),
    draft_id        BIGINT REFERENCES drafts (id),
    sender_id       BIGINT REFERENCES users (id),
    contact_ids     TEXT   NOT NULL DEFAULT '',
    message_id      TEXT   NOT NULL UNIQUE,
    envelope_from   TEXT   NOT NULL,
    envelope_to     TEXT   NOT NULL,
    subject         TEXT   NOT NULL,
    raw             TEXT   NOT NULL,
    state           TEXT   NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'retrying', 'failed', 'unknown')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT   NOT NULL DEFAULT '',
    lease_owner     TEXT,
    lease_until     BIGINT,
    fence           BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    resolved_by     BIGINT REFERENCES users (id)
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);
CREATE INDEX outbox_room ON outbox (room_id, id);
