-- The most recent fetch run.
SELECT id, profile, remote, started_at, finished_at, new_files, changed_files, unchanged_files,
       skipped_files, failed_files, bytes
FROM fetch_run ORDER BY id DESC LIMIT 1
