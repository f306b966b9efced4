-- Read models, maintained in the append's transaction and rebuildable from the log.

CREATE TABLE proposals (
    proposal_id     text PRIMARY KEY,
    version         integer NOT NULL,
    stage           text NOT NULL,
    town            text,
    preferred_town  text NOT NULL,
    theme           text NOT NULL,
    title           text NOT NULL,
    organisation    text NOT NULL,
    adoption_number integer,
    round           integer NOT NULL,
    waiting_for     text,
    due_at          timestamptz,
    fingerprint     text NOT NULL,
    is_open         boolean NOT NULL,
    submitted_at    timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    decided_at      timestamptz,
    closed_reason   text,
    state           jsonb NOT NULL
);
CREATE INDEX proposals_by_stage ON proposals (stage, submitted_at DESC);
CREATE INDEX proposals_by_town ON proposals (town, stage);
CREATE INDEX proposals_by_theme ON proposals (theme);
CREATE INDEX proposals_by_due ON proposals (due_at) WHERE is_open;
CREATE INDEX proposals_open_fingerprint ON proposals (fingerprint) WHERE is_open;
CREATE INDEX proposals_by_submitted ON proposals (submitted_at DESC, proposal_id);

CREATE TABLE rollout_members (
    proposal_id  text NOT NULL,
    lgcode       text NOT NULL,
    version      integer NOT NULL,
    status       text NOT NULL,
    municipality text NOT NULL,
    host_town    text NOT NULL,
    due_at       timestamptz,
    updated_at   timestamptz NOT NULL,
    state        jsonb NOT NULL,
    PRIMARY KEY (proposal_id, lgcode)
);
CREATE INDEX rollout_members_by_lgcode ON rollout_members (lgcode, status);
