-- Record a version of a remote file; an identical version seen again only refreshes size/mtime.
INSERT INTO remote_file (profile, folder, name, kind, size, mtime, sha256, fetched_at, run_id)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT (profile, folder, name, sha256) DO UPDATE SET size = excluded.size, mtime = excluded.mtime
RETURNING id
