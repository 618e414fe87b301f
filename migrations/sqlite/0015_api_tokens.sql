-- Personal API tokens: each person creates and revokes their own (administrators see and revoke
-- all). Only a SHA-256 digest of the token is kept; `hint` is its first characters, so a person
-- can tell their tokens apart. `scope` is 'read' or 'write'. A token stops working when revoked,
-- when it expires, or when its owner is deactivated.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    name         TEXT   NOT NULL,
    digest       TEXT   NOT NULL UNIQUE,
    hint         TEXT   NOT NULL,
    scope        TEXT   NOT NULL CHECK (scope IN ('read', 'write')),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT,
    revoked_by   BIGINT REFERENCES users (id)
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, id);
