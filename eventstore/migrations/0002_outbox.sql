-- Notifications, written in the same transaction as the events that cause them.

CREATE TABLE outbox (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key   text NOT NULL UNIQUE,
    proposal_id       text NOT NULL,
    event_id          uuid NOT NULL,
    recipient_role    text NOT NULL,
    recipient_id      text NOT NULL,
    recipient_address text,
    channel           text NOT NULL CHECK (channel IN ('email', 'record')),
    template          text NOT NULL,
    payload           jsonb NOT NULL,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'sent', 'recorded', 'failed')),
    attempts          integer NOT NULL DEFAULT 0,
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    sent_at           timestamptz
);
CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending';
CREATE INDEX outbox_by_proposal ON outbox (proposal_id, id);
CREATE INDEX outbox_by_event ON outbox (event_id);
