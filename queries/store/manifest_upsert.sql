-- Point the manifest at the version just recorded.
INSERT INTO manifest (profile, folder, name, size, mtime, remote_file_id, last_seen_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (profile, folder, name) DO UPDATE SET
    size = excluded.size, mtime = excluded.mtime,
    remote_file_id = excluded.remote_file_id, last_seen_at = excluded.last_seen_at
