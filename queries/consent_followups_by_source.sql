-- name: consent_followups_by_source
-- Consent notices per source batch (and so per submitting site/import code) and status.
-- params: since (YYYY-MM-DD, optional)
SELECT COALESCE(c.source_file, '(unknown)') AS source_file,
       COALESCE(s.import_code, substr(c.source_file, 1, length(c.source_file) - 9)) AS import_code,
       c.status, COUNT(*) AS notices, COUNT(DISTINCT c.patient_ref) AS patients,
       MIN(COALESCE(c.processed_on, r.report_date)) AS first_notice,
       MAX(COALESCE(c.processed_on, r.report_date)) AS last_notice
FROM consent_notice c
JOIN report r ON r.id = c.report_id
LEFT JOIN submission s ON s.file_name = c.source_file
WHERE COALESCE(c.processed_on, r.report_date) >= COALESCE(:since, '0000-01-01')
GROUP BY 1, 2, 3
ORDER BY notices DESC
