-- 0009: what `immdqa serve` needs: the people who may sign in (argon2id password hashes, API
-- tokens stored as SHA-256 hashes only) and worklist assignments (an 'assigned' event in the
-- item's history and its current assignee). The audit trail is a database of its own
-- (audit.sqlite, queries/store/audit_schema.sql): appending to it must not read as a change
-- of the history to the server's worklist cache, and `rebuild` never touches it.

CREATE TABLE app_user (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('dqo', 'compliance', 'analyst', 'admin')),
    password_hash TEXT NOT NULL,
    created       TEXT NOT NULL,
    updated       TEXT NOT NULL
);

CREATE TABLE api_token (
    id         INTEGER PRIMARY KEY,
    user_name  TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created    TEXT NOT NULL
);

CREATE TABLE worklist_assignee (
    profile       TEXT    NOT NULL,
    batch         TEXT    NOT NULL,
    message_index INTEGER NOT NULL,
    assignee      TEXT    NOT NULL,
    at            TEXT    NOT NULL,
    PRIMARY KEY (profile, batch, message_index)
);

-- the history accepts 'assigned' (with the assignee): SQLite cannot change a CHECK in place
CREATE TABLE worklist_event_new (
    id            INTEGER PRIMARY KEY,
    profile       TEXT    NOT NULL,
    batch         TEXT    NOT NULL,
    message_index INTEGER NOT NULL,
    action        TEXT    NOT NULL CHECK (action IN ('closed', 'ignored', 'reopened', 'assigned')),
    note          TEXT,
    by_user       TEXT,
    at            TEXT    NOT NULL,
    assignee      TEXT
);
INSERT INTO worklist_event_new (id, profile, batch, message_index, action, note, by_user, at)
SELECT id, profile, batch, message_index, action, note, by_user, at FROM worklist_event;
DROP TABLE worklist_event;
ALTER TABLE worklist_event_new RENAME TO worklist_event;
CREATE INDEX worklist_event_by_item ON worklist_event (profile, batch, message_index, id);
