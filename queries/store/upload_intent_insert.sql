-- An upload about to be renamed into place (see migration 0006).
INSERT OR REPLACE INTO upload_intent (profile, remote_name, upload, created_at)
VALUES (?1, ?2, ?3, ?4)
