-- name: quarantined_files
-- Files no parser could read, with the reason and when they were fetched.
SELECT profile, folder, name, size, fetched_at, parse_error
FROM remote_file WHERE parse_status = 'quarantined' ORDER BY fetched_at
