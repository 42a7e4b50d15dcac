-- Every parsed report with its date, submission, counts and profile (small: one row per file).
SELECT r.id, r.kind, r.format, r.submission_id, s.file_name, r.report_date,
       r.messages, r.accepted, r.accepted_with_warnings, r.rejected, r.skipped, r.query_messages,
       rf.profile, r.sha256, rf.name
FROM report r LEFT JOIN submission s ON s.id = r.submission_id
LEFT JOIN remote_file rf ON rf.id = r.remote_file_id
ORDER BY r.id
