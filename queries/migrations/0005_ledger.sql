-- 0005: the message ledger: every sent message, what the registry answered, and the worklist;
-- per-report finding sums for the columnar cache.

-- remote_file learns a third kind, 'sent' (a batch from the accepted folder, `upload` or
-- `import --sent`), so sent batches share the manifest, archive and crash guarantees. SQLite
-- cannot alter a CHECK: the table is rebuilt with the same columns (foreign keys are off).
CREATE TABLE remote_file_v5 (
    id            INTEGER PRIMARY KEY,
    profile       TEXT    NOT NULL,
    folder        TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('dqa', 'cnf', 'sent')),
    size          INTEGER NOT NULL,
    mtime         INTEGER NOT NULL,
    sha256        TEXT    NOT NULL REFERENCES blob (sha256),
    fetched_at    TEXT    NOT NULL,
    run_id        INTEGER REFERENCES fetch_run (id),
    parse_status  TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (parse_status IN ('pending', 'parsed', 'quarantined')),
    parse_error   TEXT,
    UNIQUE (profile, folder, name, sha256)
);
INSERT INTO remote_file_v5 SELECT id, profile, folder, name, kind, size, mtime, sha256, fetched_at,
    run_id, parse_status, parse_error FROM remote_file;
DROP TABLE remote_file;
ALTER TABLE remote_file_v5 RENAME TO remote_file;

-- One sent batch (one per profile and name: the registry's copy and immdqa's upload of the
-- same batch are one).
CREATE TABLE sent_batch (
    id             INTEGER PRIMARY KEY,
    profile        TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    sha256         TEXT    NOT NULL,
    source         TEXT    NOT NULL CHECK (source IN ('upload', 'accepted', 'import')),
    sent_on        TEXT,                         -- ISO date: the name's YYDDD, else MSH-7
    recorded_at    TEXT    NOT NULL,
    messages       INTEGER NOT NULL,
    report_id      INTEGER,                      -- the answer (primary report), when linked
    answered_at    TEXT,                         -- when the answer was linked
    UNIQUE (profile, name)
);
CREATE INDEX sent_batch_by_name ON sent_batch (name);

-- One sent message. No names, birth dates or addresses: the patient by reference only.
CREATE TABLE ledger_message (
    id            INTEGER PRIMARY KEY,
    batch_id      INTEGER NOT NULL REFERENCES sent_batch (id) ON DELETE CASCADE,
    message_index INTEGER NOT NULL,               -- 1-based position in the batch
    control_id    TEXT,                           -- MSH-10
    message_time  TEXT    NOT NULL,               -- MSH-7, ISO (else the batch date): the order of sends
    week          TEXT    NOT NULL,               -- Monday of the ISO week (the batch's date)
    facility      TEXT,                           -- MSH-4
    site          TEXT    NOT NULL,               -- RXA-11.4, else MSH-4, else '(none)'
    patient_ref   TEXT,                           -- PID-3, first identifier
    status        TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (status = 'pending' OR status = 'accepted' OR status = 'accepted_with_warnings'
                         OR status = 'rejected' OR status = 'not_mentioned'),
    -- 1: 'accepted' because a listing of issues does not name it (an inference, not an answer)
    inferred      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ledger_message_by_batch ON ledger_message (batch_id, control_id);
CREATE INDEX ledger_message_by_patient ON ledger_message (patient_ref);

-- One vaccination (RXA) of a sent message.
CREATE TABLE ledger_vaccination (
    message_id        INTEGER NOT NULL REFERENCES ledger_message (id) ON DELETE CASCADE,
    seq               INTEGER NOT NULL,
    vaccine           TEXT    NOT NULL,           -- CVX, else NDC, else '(none)'
    ndc               TEXT,
    administered_on   TEXT,                       -- RXA-3, ISO date
    historical        INTEGER NOT NULL,           -- RXA-9 other than 00
    completion        TEXT,                       -- RXA-20
    provider          TEXT    NOT NULL,           -- RXA-10, else '(none)'
    entered_by        TEXT,                       -- ORC-10
    ordering_provider TEXT,                       -- ORC-12
    site              TEXT    NOT NULL,           -- RXA-11.4, else the message's
    age_years         INTEGER,                    -- at vaccination, whole years
    days_to_report    INTEGER,                    -- MSH-7 date − RXA-3
    PRIMARY KEY (message_id, seq)
) WITHOUT ROWID;                                  -- clustered by message: no extra index

-- What an acknowledgement said about each message (MSA-2 and the status from MSA-1 + ERRs).
CREATE TABLE answer (
    report_id          INTEGER NOT NULL REFERENCES report (id) ON DELETE CASCADE,
    message_control_id TEXT,
    message_index      INTEGER,
    status             TEXT    NOT NULL
);
CREATE INDEX answer_by_report ON answer (report_id, message_control_id);

-- A finding's ledger message, set when the answer is linked.
ALTER TABLE finding ADD COLUMN message_id INTEGER;
CREATE INDEX finding_by_message ON finding (message_id) WHERE message_id IS NOT NULL;

-- The worklist's candidates, kept current when answers are linked (so reading the worklist
-- does not recompute it): every sent message that was rejected or carries a finding, when its
-- answer arrived, and whether a later accepted message re-sent the same record.
CREATE TABLE worklist_item (
    message_id      INTEGER PRIMARY KEY REFERENCES ledger_message (id) ON DELETE CASCADE,
    opened          TEXT,
    resolved        INTEGER NOT NULL DEFAULT 0,
    -- what the worklist shows, gathered once when the answer is linked
    vaccines        TEXT,                     -- the message's vaccines, space-separated
    administered_on TEXT,                     -- the earliest RXA-3
    provider        TEXT,                     -- the first vaccination's RXA-10
    codes           TEXT                      -- code US severity US field US text, RS between
);
CREATE INDEX worklist_item_by_opened ON worklist_item (opened, message_id);

-- Worklist items closed or ignored by hand, keyed so a rebuild keeps them.
CREATE TABLE worklist_action (
    profile       TEXT NOT NULL,
    batch         TEXT NOT NULL,
    message_index INTEGER NOT NULL,
    action        TEXT NOT NULL CHECK (action = 'closed' OR action = 'ignored'),
    note          TEXT,
    at            TEXT NOT NULL,
    PRIMARY KEY (profile, batch, message_index)
) WITHOUT ROWID;

-- Each report's occurrences per (field, code, severity), written with the report: the columnar
-- cache reads these few rows instead of every finding (benchmark B2/B3, cold). Backfilled.
CREATE TABLE finding_sum (
    report_id INTEGER NOT NULL REFERENCES report (id) ON DELETE CASCADE,
    field     TEXT,
    code      TEXT,
    severity  TEXT    NOT NULL,
    count     INTEGER NOT NULL
);
CREATE INDEX finding_sum_by_report ON finding_sum (report_id);
INSERT INTO finding_sum (report_id, field, code, severity, count)
SELECT report_id, field, code, severity, SUM(count) FROM finding
GROUP BY report_id, field, code, severity;
