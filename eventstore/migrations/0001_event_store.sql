-- The event log: every fact about every proposal, in one global order.
-- Positions are taken under a transaction-level advisory lock held until commit, so they
-- become visible in increasing order: a reader tailing by position never skips one.

CREATE TABLE streams (
    stream_id   text PRIMARY KEY,
    proposal_id text NOT NULL,
    version     integer NOT NULL CHECK (version >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
    position     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE,
    stream_id    text NOT NULL,
    proposal_id  text NOT NULL,
    version      integer NOT NULL CHECK (version >= 1),
    type         text NOT NULL,
    data         jsonb NOT NULL,
    -- sha256 of the event as the writer sent it: an idempotent re-append must match it.
    content_hash bytea NOT NULL,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream_id, version)
);
CREATE INDEX events_by_proposal ON events (proposal_id, position);
CREATE INDEX events_by_type ON events (type, position);

-- Gap-free numbers (adoption numbers per town): a row lock, allocated in the append's transaction.
CREATE TABLE counters (
    name  text PRIMARY KEY,
    value bigint NOT NULL
);

CREATE TABLE adoption_numbers (
    town        text NOT NULL,
    number      integer NOT NULL,
    proposal_id text NOT NULL UNIQUE,
    event_id    uuid NOT NULL UNIQUE,
    PRIMARY KEY (town, number)
);
