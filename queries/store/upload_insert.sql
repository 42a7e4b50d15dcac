-- One batch sent to the drop-off folder.
INSERT INTO upload (profile, local_path, remote_dir, remote_name, size, sha256, uploaded_at,
                    messages, lint_errors, lint_warnings)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
