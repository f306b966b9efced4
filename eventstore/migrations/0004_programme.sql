-- The secretariat's programme settings: intake open or paused per town, and network members.

CREATE TABLE intake_status (
    town       text PRIMARY KEY CHECK (town IN ('yokoze', 'bandai')),
    paused     boolean NOT NULL,
    reason     text,
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by text NOT NULL
);
INSERT INTO intake_status (town, paused, changed_by)
VALUES ('yokoze', false, 'migration'), ('bandai', false, 'migration');

-- Every change to the programme settings, for the audit trail.
CREATE TABLE programme_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action     text NOT NULL,
    subject    text NOT NULL,
    detail     text,
    actor      text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE network_members (
    lgcode        text PRIMARY KEY,
    name          text NOT NULL,
    prefecture    text NOT NULL,
    contact_email text,
    joined_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO network_members (lgcode, name, prefecture)
VALUES ('113611', '横瀬町', '埼玉県'), ('074071', '磐梯町', '福島県');
