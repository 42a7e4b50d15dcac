-- 0006: an upload about to be renamed into place on the server. Written before the rename and
-- removed once the upload is recorded: a run killed in between leaves the row, and the next run
-- asks the server whether the file arrived (same size and hash: recorded, never sent twice).

CREATE TABLE upload_intent (
    profile     TEXT NOT NULL,
    remote_name TEXT NOT NULL,
    upload      TEXT NOT NULL,    -- the upload row to record once the server holds the file (JSON)
    created_at  TEXT NOT NULL,
    PRIMARY KEY (profile, remote_name)
) WITHOUT ROWID;
