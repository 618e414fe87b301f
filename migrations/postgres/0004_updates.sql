-- Leadership updates: revisions aligned like drafts (the shared `approvals` table), published as
-- frozen, numbered pre-reads that carry a snapshot of the room at the moment of publishing.
CREATE TABLE leadership_updates (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id          BIGINT NOT NULL REFERENCES rooms (id),
    created_by       BIGINT NOT NULL REFERENCES users (id),
    created_at       BIGINT NOT NULL,
    current_revision BIGINT NOT NULL,
    published_version BIGINT
);
CREATE INDEX leadership_updates_room ON leadership_updates (room_id, id);

CREATE TABLE update_revisions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    update_id    BIGINT NOT NULL REFERENCES leadership_updates (id),
    number       BIGINT NOT NULL,
    status       TEXT   NOT NULL CHECK (status IN ('on_track', 'at_risk', 'off_track')),
    headline     TEXT   NOT NULL,
    what_changed TEXT   NOT NULL,
    decisions    TEXT   NOT NULL,
    risks        TEXT   NOT NULL,
    asks         TEXT   NOT NULL,
    next_due     BIGINT,
    author_id    BIGINT NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    UNIQUE (update_id, number)
);

CREATE TABLE pre_reads (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id      BIGINT NOT NULL REFERENCES rooms (id),
    version      BIGINT NOT NULL,
    update_id    BIGINT NOT NULL REFERENCES leadership_updates (id),
    revision     BIGINT NOT NULL,
    status       TEXT   NOT NULL,
    headline     TEXT   NOT NULL,
    what_changed TEXT   NOT NULL,
    decisions    TEXT   NOT NULL,
    risks        TEXT   NOT NULL,
    asks         TEXT   NOT NULL,
    next_due     BIGINT,
    snapshot     TEXT   NOT NULL,
    published_by BIGINT NOT NULL REFERENCES users (id),
    published_at BIGINT NOT NULL,
    UNIQUE (room_id, version)
);
CREATE INDEX pre_reads_latest ON pre_reads (room_id, version);
