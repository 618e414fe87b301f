-- The room sync: how often the team meets about the room (NULL: by severity) and when next, and
-- each sync held, with its minutes and how every agenda item stood in it.

ALTER TABLE rooms ADD COLUMN sync_every_hours BIGINT;
ALTER TABLE rooms ADD COLUMN next_sync_at BIGINT;

CREATE TABLE syncs (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id    BIGINT NOT NULL REFERENCES rooms (id),
    held_at    BIGINT NOT NULL,
    taken_by   BIGINT NOT NULL REFERENCES users (id),
    notes      TEXT   NOT NULL DEFAULT '',
    next_steps TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX syncs_room ON syncs (room_id, id);

-- The agenda as it stood in a sync: each item discussed (1), or carried over to the next (0).
CREATE TABLE sync_items (
    sync_id   BIGINT NOT NULL REFERENCES syncs (id),
    item_key  TEXT   NOT NULL,
    label     TEXT   NOT NULL,
    discussed BIGINT NOT NULL,
    PRIMARY KEY (sync_id, item_key)
);

-- Agenda emails sent: once per room and sync time, whatever the number of instances.
CREATE TABLE sync_reminders (
    room_id BIGINT NOT NULL REFERENCES rooms (id),
    sync_at BIGINT NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, sync_at)
);
