-- Every upload, with when its name was first seen in the accepted folder.
SELECT u.profile, u.local_path, u.remote_dir, u.remote_name, u.size, u.sha256, u.uploaded_at,
       u.messages, u.lint_errors, u.lint_warnings, a.first_seen_at
FROM upload u
LEFT JOIN accepted_seen a ON a.profile = u.profile AND a.name = u.remote_name
ORDER BY u.id
