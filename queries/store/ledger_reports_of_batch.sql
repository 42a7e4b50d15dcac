-- The DQA reports about a batch: (report id, format, whether it answers each message).
SELECT r.id, r.format, EXISTS (SELECT 1 FROM answer a WHERE a.report_id = r.id) AS answers
FROM report r JOIN submission s ON s.id = r.submission_id
WHERE s.file_name = ?1 AND r.kind = 'dqa'
