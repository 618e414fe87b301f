-- The customer's side of the conversation: mail that comes back, filed into a room or held for an
-- admin, with its exact bytes and attachments.

-- The room's reply address is ACCORD_INBOUND_ADDRESS with this token after a '+': unguessable,
-- replaced when a lead rotates it (the old address then matches nothing). NULL until first needed.
ALTER TABLE rooms ADD COLUMN reply_token TEXT;
CREATE UNIQUE INDEX rooms_reply_token ON rooms (reply_token);

-- 'inbound' touches are the customer writing to us: shown in the contact log, never counted
-- against the touch limit. `by_user_id` of an inbound touch is the room's communicator.
ALTER TABLE contact_touches ADD COLUMN direction TEXT NOT NULL DEFAULT 'outbound' CHECK (direction IN ('outbound', 'inbound'));

CREATE TABLE inbound_messages (
    id             INTEGER PRIMARY KEY,
    -- The Message-ID in angle brackets, or 'sha256:<hex>' of the bytes when there is none: the
    -- same message delivered twice (or through two doors) is filed once.
    dedupe_key     TEXT   NOT NULL UNIQUE,
    message_id     TEXT   NOT NULL DEFAULT '',
    state          TEXT   NOT NULL CHECK (state IN ('filed', 'unmatched', 'discarded')),
    kind           TEXT   NOT NULL CHECK (kind IN ('reply', 'auto_reply', 'bounce', 'unparsable')),
    room_id        BIGINT REFERENCES rooms (id),
    contact_id     BIGINT REFERENCES contacts (id),
    -- How it found its room ('in_reply_to', 'references', 'reply_address', 'admin'), or why not.
    matched_by     TEXT   NOT NULL DEFAULT '',
    why_unmatched  TEXT   NOT NULL DEFAULT '',
    -- The first message of its thread: the room page shows one conversation per thread.
    thread_root    TEXT   NOT NULL DEFAULT '',
    from_address   TEXT   NOT NULL DEFAULT '',
    from_name      TEXT   NOT NULL DEFAULT '',
    subject        TEXT   NOT NULL DEFAULT '',
    body_text      TEXT   NOT NULL DEFAULT '',
    in_reply_to    TEXT   NOT NULL DEFAULT '',
    references_ids TEXT   NOT NULL DEFAULT '',
    written_at     BIGINT,
    received_at    BIGINT NOT NULL,
    source         TEXT   NOT NULL CHECK (source IN ('imap', 'http', 'pipe', 'demo')),
    size_bytes     BIGINT NOT NULL,
    filed_by       BIGINT REFERENCES users (id),
    filed_at       BIGINT
);
CREATE INDEX inbound_room ON inbound_messages (room_id, received_at);
CREATE INDEX inbound_state ON inbound_messages (state, received_at);

-- The message byte for byte, apart from its parsed fields (which pages read without it).
CREATE TABLE inbound_raw (
    message_id BIGINT NOT NULL PRIMARY KEY REFERENCES inbound_messages (id),
    raw        BLOB   NOT NULL
);

CREATE TABLE inbound_attachments (
    id           INTEGER PRIMARY KEY,
    message_id   BIGINT NOT NULL REFERENCES inbound_messages (id),
    position     BIGINT NOT NULL,
    filename     TEXT   NOT NULL,
    content_type TEXT   NOT NULL,
    size_bytes   BIGINT NOT NULL,
    content      BLOB   NOT NULL,
    UNIQUE (message_id, position)
);

-- A question answered by the customer's message, with the passage quoted as its answer.
ALTER TABLE questions ADD COLUMN answered_in_message BIGINT REFERENCES inbound_messages (id);

-- A draft started with "Reply": it answers that message (In-Reply-To, References).
ALTER TABLE drafts ADD COLUMN replies_to_message BIGINT REFERENCES inbound_messages (id);
