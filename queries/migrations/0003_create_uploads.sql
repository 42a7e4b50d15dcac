-- 0003: uploads of batch files to the drop-off folder, and batch names seen in Accepted.

CREATE TABLE upload (
    id            INTEGER PRIMARY KEY,
    profile       TEXT    NOT NULL,
    local_path    TEXT    NOT NULL,
    remote_dir    TEXT    NOT NULL,
    remote_name   TEXT    NOT NULL,             -- <ImportCode><YY><DDD>[.n].hl7
    size          INTEGER NOT NULL,
    sha256        TEXT    NOT NULL,
    uploaded_at   TEXT    NOT NULL,
    messages      INTEGER NOT NULL,
    lint_errors   INTEGER NOT NULL,
    lint_warnings INTEGER NOT NULL,
    UNIQUE (profile, remote_name)
);

-- Batch names seen in the accepted folder (the registry has processed them).
CREATE TABLE accepted_seen (
    profile       TEXT NOT NULL,
    name          TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    PRIMARY KEY (profile, name)
) WITHOUT ROWID;
