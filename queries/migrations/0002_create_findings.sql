-- 0002: the normalised model: submissions, reports, findings, consent notices.

-- A batch file the organisation submitted (<ImportCode><YY><DDD>[.n].hl7).
CREATE TABLE submission (
    id           INTEGER PRIMARY KEY,
    file_name    TEXT    NOT NULL UNIQUE,
    import_code  TEXT,
    submitted_on TEXT,                          -- ISO date from YYDDD
    seq          INTEGER
);

-- One parsed file (by content: the same bytes under two names are one report).
CREATE TABLE report (
    id                     INTEGER PRIMARY KEY,
    sha256                 TEXT    NOT NULL UNIQUE REFERENCES blob (sha256),
    remote_file_id         INTEGER REFERENCES remote_file (id),
    kind                   TEXT    NOT NULL CHECK (kind IN ('dqa', 'cnf')),
    format                 TEXT    NOT NULL,
    submission_id          INTEGER REFERENCES submission (id),
    report_date            TEXT,                -- ISO date: the submission's, else the file's
    messages               INTEGER,
    accepted               INTEGER,
    accepted_with_warnings INTEGER,
    rejected               INTEGER,
    skipped                INTEGER,
    finding_rows           INTEGER NOT NULL DEFAULT 0,
    consent_rows           INTEGER NOT NULL DEFAULT 0,
    parsed_at              TEXT    NOT NULL,
    parser_version         INTEGER NOT NULL
);
CREATE INDEX report_by_submission ON report (submission_id);
CREATE INDEX report_by_date ON report (report_date);

-- One data quality issue (count > 1 when the report aggregates occurrences).
CREATE TABLE finding (
    id                 INTEGER PRIMARY KEY,
    report_id          INTEGER NOT NULL REFERENCES report (id) ON DELETE CASCADE,
    message_control_id TEXT,
    message_index      INTEGER,
    patient_ref        TEXT,
    segment            TEXT,
    field              TEXT,                    -- SEG-n[.m], or a bare segment
    code               TEXT,                    -- registry code, verbatim
    -- OR, not IN (...): SQLite builds a temporary index for an IN list on every inserted row
    -- (41% of insert time on 200,000 rows).
    severity           TEXT    NOT NULL CHECK (severity = 'E' OR severity = 'W' OR severity = 'I'),
    text               TEXT    NOT NULL,
    raw                TEXT    NOT NULL,        -- exactly as received
    count              INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX finding_by_report ON finding (report_id);

-- One patient whose consent could not be verified.
CREATE TABLE consent_notice (
    id               INTEGER PRIMARY KEY,
    report_id        INTEGER NOT NULL REFERENCES report (id) ON DELETE CASCADE,
    patient_ref      TEXT,
    last_name        TEXT,
    first_name       TEXT,
    middle_name      TEXT,
    dob              TEXT,
    dob_raw          TEXT,
    consent_code     TEXT,
    consent_date     TEXT,
    consent_date_raw TEXT,
    reason_code      TEXT,
    reason_text      TEXT,
    status           TEXT    NOT NULL,
    source_file      TEXT,
    processed_on     TEXT,
    raw              TEXT    NOT NULL
);
CREATE INDEX consent_by_report ON consent_notice (report_id);
CREATE INDEX consent_by_patient ON consent_notice (patient_ref);
