-- Accounts, one-time links, sessions and the sign-in throttle.
CREATE TABLE users (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    title         TEXT    NOT NULL DEFAULT '',
    password_hash TEXT,
    is_admin      BIGINT  NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    is_active     BIGINT  NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at    BIGINT  NOT NULL
);

CREATE TABLE account_tokens (
    token_hash TEXT    PRIMARY KEY,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('setup', 'password')),
    user_id    BIGINT  REFERENCES users (id),
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    used_at    BIGINT
);
CREATE INDEX account_tokens_user ON account_tokens (user_id);

CREATE TABLE sessions (
    id         TEXT   PRIMARY KEY,
    user_id    BIGINT,
    data       TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE sign_in_throttle (
    key             TEXT   PRIMARY KEY,
    failures        BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL
);
