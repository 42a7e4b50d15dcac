-- Consent notices with the date they were issued (processed date, else the report's date), for
-- the profile ?1 (NULL = every profile).
SELECT c.id, c.report_id, COALESCE(c.processed_on, r.report_date), c.patient_ref, c.status,
       c.reason_code, c.consent_code, c.source_file, rf.profile, r.sha256
FROM consent_notice c JOIN report r ON r.id = c.report_id
LEFT JOIN remote_file rf ON rf.id = r.remote_file_id
WHERE ?1 IS NULL OR rf.profile = ?1
ORDER BY 3, c.id
