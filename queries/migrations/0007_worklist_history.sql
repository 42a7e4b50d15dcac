-- 0007: the history of hand actions and notes on worklist items (append-only): who did what,
-- when, with which note. worklist_action keeps each item's current hand state (closed or
-- ignored; reopened removes it); the notes are read from here, every one, never overwritten.

CREATE TABLE worklist_event (
    id            INTEGER PRIMARY KEY,
    profile       TEXT    NOT NULL,
    batch         TEXT    NOT NULL,
    message_index INTEGER NOT NULL,
    action        TEXT    NOT NULL CHECK (action IN ('closed', 'ignored', 'reopened')),
    note          TEXT,
    by_user       TEXT,
    at            TEXT    NOT NULL
);
CREATE INDEX worklist_event_by_item ON worklist_event (profile, batch, message_index, id);

-- the actions taken before: the first event of their item
INSERT INTO worklist_event (profile, batch, message_index, action, note, by_user, at)
SELECT profile, batch, message_index, action, note, NULL, at FROM worklist_action;
