-- 0001: the fetch history: runs, archived blobs, remote file versions, the manifest.

-- One row per `immdqa fetch` (or import) run.
CREATE TABLE fetch_run (
    id              INTEGER PRIMARY KEY,
    profile         TEXT    NOT NULL,
    remote          TEXT    NOT NULL,            -- e.g. sftp://user@host:22 (no secrets)
    started_at      TEXT    NOT NULL,            -- ISO 8601 UTC
    finished_at     TEXT,                        -- NULL: the run was interrupted
    new_files       INTEGER NOT NULL DEFAULT 0,
    changed_files   INTEGER NOT NULL DEFAULT 0,
    unchanged_files INTEGER NOT NULL DEFAULT 0,
    skipped_files   INTEGER NOT NULL DEFAULT 0,
    failed_files    INTEGER NOT NULL DEFAULT 0,
    bytes           INTEGER NOT NULL DEFAULT 0
);

-- Content-addressed archive: archive/<first two hex>/<sha256>.
CREATE TABLE blob (
    sha256    TEXT    PRIMARY KEY,
    size      INTEGER NOT NULL,
    stored_at TEXT    NOT NULL
) WITHOUT ROWID;

-- Every distinct content ever seen under a remote name: a changed file keeps all versions.
CREATE TABLE remote_file (
    id            INTEGER PRIMARY KEY,
    profile       TEXT    NOT NULL,
    folder        TEXT    NOT NULL,              -- remote folder as configured
    name          TEXT    NOT NULL,              -- remote file name (validated)
    kind          TEXT    NOT NULL CHECK (kind IN ('dqa', 'cnf')),
    size          INTEGER NOT NULL,
    mtime         INTEGER NOT NULL,              -- remote mtime, Unix seconds
    sha256        TEXT    NOT NULL REFERENCES blob (sha256),
    fetched_at    TEXT    NOT NULL,
    run_id        INTEGER REFERENCES fetch_run (id),
    parse_status  TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (parse_status IN ('pending', 'parsed', 'quarantined')),
    parse_error   TEXT,
    UNIQUE (profile, folder, name, sha256)
);

-- What the remote folder looked like at the last fetch: the diff base for the next one.
CREATE TABLE manifest (
    profile        TEXT    NOT NULL,
    folder         TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    size           INTEGER NOT NULL,
    mtime          INTEGER NOT NULL,
    remote_file_id INTEGER NOT NULL REFERENCES remote_file (id),
    last_seen_at   TEXT    NOT NULL,
    PRIMARY KEY (profile, folder, name)
) WITHOUT ROWID;

-- Files a run skipped (hostile name, symlink, too large) or failed to fetch, with the reason.
CREATE TABLE fetch_event (
    id      INTEGER PRIMARY KEY,
    run_id  INTEGER NOT NULL REFERENCES fetch_run (id),
    folder  TEXT    NOT NULL,
    name    TEXT    NOT NULL,                    -- escaped for display
    outcome TEXT    NOT NULL CHECK (outcome IN ('skipped', 'failed')),
    reason  TEXT    NOT NULL
);
CREATE INDEX fetch_event_by_run ON fetch_event (run_id);
