-- Every parsed report with its date, submission and counts (small: one row per file).
SELECT r.id, r.kind, r.format, r.submission_id, s.file_name, r.report_date,
       r.messages, r.accepted, r.accepted_with_warnings, r.rejected, r.skipped
FROM report r LEFT JOIN submission s ON s.id = r.submission_id
ORDER BY r.id
