-- Signed webhooks. An administrator registers an endpoint (its URL, the events it wants, its
-- payload format, whether customer email bodies may be included); its signing secret is kept
-- as given out, since every delivery is signed with it.
CREATE TABLE webhook_endpoints (
    id             INTEGER PRIMARY KEY,
    url            TEXT   NOT NULL,
    events         TEXT   NOT NULL,
    secret         TEXT   NOT NULL,
    format         TEXT   NOT NULL CHECK (format IN ('standard', 'slack')),
    include_bodies BIGINT NOT NULL DEFAULT 0,
    created_by     BIGINT NOT NULL REFERENCES users (id),
    created_at     BIGINT NOT NULL,
    disabled_at    BIGINT
);

-- One event for one endpoint, written in the transaction that recorded the event (what it says,
-- kept as recorded; the JSON is built when it is sent), and delivered like an outbox message: claimed under a lease, retried with backoff, delivered at most once
-- successfully. `event_id` stays the same across retries (the receiver's idempotency key).
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    endpoint_id     BIGINT NOT NULL REFERENCES webhook_endpoints (id),
    event_id        TEXT   NOT NULL,
    event           TEXT   NOT NULL,
    room_id         BIGINT NOT NULL REFERENCES rooms (id),
    room_title      TEXT   NOT NULL,
    summary         TEXT   NOT NULL,
    link            TEXT   NOT NULL,
    email_body      TEXT,
    state           TEXT   NOT NULL CHECK (state IN ('queued', 'delivering', 'delivered', 'retrying', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    last_error      TEXT   NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at, id);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

-- Each attempt, as administrators see it: the receiver's status, or why there was none.
CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES webhook_deliveries (id),
    at          BIGINT NOT NULL,
    status      BIGINT,
    error       TEXT   NOT NULL DEFAULT '',
    duration_ms BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
