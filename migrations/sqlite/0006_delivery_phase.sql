-- When a delivery attempt durably began handing its message to the mail server (just before the
-- DATA command); every claim clears it. After a crash, a claimed row without it was never handed
-- over and is retried; one with it may have reached the server and becomes `unknown`.
ALTER TABLE outbox ADD COLUMN handed_over_at BIGINT;
-- When a person resolved an unknown delivery (`resolved_by` says who).
ALTER TABLE outbox ADD COLUMN resolved_at BIGINT;
