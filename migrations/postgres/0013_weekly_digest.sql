-- The weekly digest leadership members get by email (each may opt out on Your settings), and
-- which week went to whom: once per person and week, whatever the number of instances.
ALTER TABLE users ADD COLUMN weekly_digest BIGINT NOT NULL DEFAULT 1;

CREATE TABLE digests (
    user_id BIGINT NOT NULL REFERENCES users (id),
    week    BIGINT NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, week)
);
