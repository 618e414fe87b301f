-- Escalation rooms and everything in them: customers and contacts, members and role
-- hand-overs, workstreams, decision types and decisions, the question ledger, the contact log
-- and the timeline. Single holders (lead, communicator, driver, owner) are NOT NULL columns.
CREATE TABLE customers (
    id           INTEGER PRIMARY KEY,
    name         TEXT   NOT NULL,
    name_key     TEXT   NOT NULL UNIQUE,
    email_domain TEXT   NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);

CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    name        TEXT   NOT NULL,
    email       TEXT   NOT NULL UNIQUE,
    title       TEXT   NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX contacts_customer ON contacts (customer_id, name);

CREATE TABLE rooms (
    id                         INTEGER PRIMARY KEY,
    customer_id                BIGINT NOT NULL REFERENCES customers (id),
    title                      TEXT   NOT NULL,
    search_key                 TEXT   NOT NULL,
    problem                    TEXT   NOT NULL,
    severity                   TEXT   NOT NULL CHECK (severity IN ('S1', 'S2', 'S3')),
    escalated_by_contact_id    BIGINT REFERENCES contacts (id),
    escalated_at               BIGINT NOT NULL,
    status                     TEXT   NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'closed')),
    resolution                 TEXT   NOT NULL DEFAULT '',
    lead_user_id               BIGINT NOT NULL REFERENCES users (id),
    communicator_user_id       BIGINT NOT NULL REFERENCES users (id),
    next_customer_update_due   BIGINT,
    next_leadership_update_due BIGINT,
    opened_by                  BIGINT NOT NULL REFERENCES users (id),
    opened_at                  BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL,
    version                    BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX rooms_recent ON rooms (updated_at, id);
CREATE INDEX rooms_customer ON rooms (customer_id, updated_at);
CREATE INDEX rooms_status ON rooms (status, updated_at);
CREATE INDEX rooms_lead ON rooms (lead_user_id, status);

CREATE TABLE members (
    room_id  BIGINT NOT NULL REFERENCES rooms (id),
    user_id  BIGINT NOT NULL REFERENCES users (id),
    kind     TEXT   NOT NULL CHECK (kind IN ('pm', 'partner', 'leadership')),
    added_by BIGINT NOT NULL REFERENCES users (id),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX members_user ON members (user_id, room_id);

CREATE TABLE role_handovers (
    id           INTEGER PRIMARY KEY,
    room_id      BIGINT NOT NULL REFERENCES rooms (id),
    role         TEXT   NOT NULL CHECK (role IN ('lead', 'communicator')),
    from_user_id BIGINT NOT NULL REFERENCES users (id),
    to_user_id   BIGINT NOT NULL REFERENCES users (id),
    reason       TEXT   NOT NULL,
    by_user_id   BIGINT NOT NULL REFERENCES users (id),
    at           BIGINT NOT NULL
);
CREATE INDEX role_handovers_room ON role_handovers (room_id, id);

CREATE TABLE workstreams (
    id             INTEGER PRIMARY KEY,
    room_id        BIGINT NOT NULL REFERENCES rooms (id),
    title          TEXT   NOT NULL,
    driver_user_id BIGINT NOT NULL REFERENCES users (id),
    status         TEXT   NOT NULL CHECK (status IN ('planned', 'active', 'blocked', 'done')),
    next_step      TEXT   NOT NULL DEFAULT '',
    due_at         BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX workstreams_room ON workstreams (room_id, id);
CREATE INDEX workstreams_driver ON workstreams (driver_user_id, status, due_at);

CREATE TABLE workstream_navigators (
    workstream_id BIGINT NOT NULL REFERENCES workstreams (id),
    user_id       BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (workstream_id, user_id)
);

CREATE TABLE decision_types (
    id            INTEGER PRIMARY KEY,
    room_id       BIGINT NOT NULL REFERENCES rooms (id),
    name          TEXT   NOT NULL,
    name_key      TEXT   NOT NULL,
    owner_user_id BIGINT NOT NULL REFERENCES users (id),
    UNIQUE (room_id, name_key)
);
CREATE INDEX decision_types_owner ON decision_types (owner_user_id);

CREATE TABLE decisions (
    id               INTEGER PRIMARY KEY,
    room_id          BIGINT NOT NULL REFERENCES rooms (id),
    decision_type_id BIGINT NOT NULL REFERENCES decision_types (id),
    title            TEXT   NOT NULL,
    rationale        TEXT   NOT NULL DEFAULT '',
    status           TEXT   NOT NULL CHECK (status IN ('proposed', 'decided', 'rejected', 'superseded')),
    proposed_by      BIGINT NOT NULL REFERENCES users (id),
    proposed_at      BIGINT NOT NULL,
    decided_by       BIGINT REFERENCES users (id),
    decided_at       BIGINT,
    supersedes_id    BIGINT REFERENCES decisions (id),
    superseded_by_id BIGINT REFERENCES decisions (id)
);
CREATE INDEX decisions_room ON decisions (room_id, id);
CREATE INDEX decisions_type ON decisions (decision_type_id, status);

CREATE TABLE questions (
    id                     INTEGER PRIMARY KEY,
    room_id                BIGINT NOT NULL REFERENCES rooms (id),
    customer_id            BIGINT NOT NULL REFERENCES customers (id),
    body                   TEXT   NOT NULL,
    terms                  TEXT   NOT NULL DEFAULT '',
    stakeholder_contact_id BIGINT REFERENCES contacts (id),
    stakeholder_name       TEXT   NOT NULL DEFAULT '',
    asked_by               BIGINT NOT NULL REFERENCES users (id),
    asked_at               BIGINT NOT NULL,
    status                 TEXT   NOT NULL CHECK (status IN ('open', 'answered', 'withdrawn')),
    answer                 TEXT   NOT NULL DEFAULT '',
    answered_by            BIGINT REFERENCES users (id),
    answered_at            BIGINT,
    asked_despite          TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX questions_room ON questions (room_id, id);

-- The candidate pre-filter for similar questions: normalised terms per question, per customer.
CREATE TABLE question_terms (
    customer_id BIGINT NOT NULL,
    term        TEXT   NOT NULL,
    question_id BIGINT NOT NULL REFERENCES questions (id),
    PRIMARY KEY (customer_id, term, question_id)
);

CREATE TABLE contact_touches (
    id         INTEGER PRIMARY KEY,
    room_id    BIGINT REFERENCES rooms (id),
    contact_id BIGINT NOT NULL REFERENCES contacts (id),
    channel    TEXT   NOT NULL CHECK (channel IN ('email', 'call', 'meeting', 'chat')),
    summary    TEXT   NOT NULL,
    touched_at BIGINT NOT NULL,
    by_user_id BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX contact_touches_contact ON contact_touches (contact_id, touched_at);
CREATE INDEX contact_touches_room ON contact_touches (room_id, touched_at);

CREATE TABLE timeline_events (
    id            INTEGER PRIMARY KEY,
    room_id       BIGINT NOT NULL REFERENCES rooms (id),
    at            BIGINT NOT NULL,
    actor_user_id BIGINT REFERENCES users (id),
    kind          TEXT   NOT NULL,
    summary       TEXT   NOT NULL,
    link          TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX timeline_room ON timeline_events (room_id, id);
CREATE INDEX timeline_room_kind ON timeline_events (room_id, kind, id);
