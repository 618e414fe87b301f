-- Single sign-on: who someone is at an OpenID Provider (its issuer and their subject there),
-- linked to one account. Matched on every sign-in; created when an account is linked by its
-- verified email (once) or created just in time.
CREATE TABLE user_identities (
    issuer    TEXT   NOT NULL,
    subject   TEXT   NOT NULL,
    user_id   BIGINT NOT NULL REFERENCES users (id),
    linked_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);
