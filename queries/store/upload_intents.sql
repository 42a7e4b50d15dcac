-- Uploads of a profile that were about to be renamed into place when a run stopped.
SELECT upload FROM upload_intent WHERE profile = ?1 ORDER BY created_at, remote_name
