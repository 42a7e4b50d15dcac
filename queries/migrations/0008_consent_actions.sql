-- 0008: consent follow-ups closed by hand, with a note and who (compliance staff close what no
-- later report can close: a notice without a patient id, a patient who will not be seen
-- again). Keyed by the follow-up (the patient reference, or the name and birth date a notice
-- without one carries), so a rebuild replays them from their journal.

CREATE TABLE consent_action (
    id         INTEGER PRIMARY KEY,
    follow_up  TEXT NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('closed', 'reopened')),
    note       TEXT,
    by_user    TEXT,
    at         TEXT NOT NULL
);
CREATE INDEX consent_action_by_follow_up ON consent_action (follow_up, id);
