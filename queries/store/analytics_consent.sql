-- Consent notices (with the names and birth date they carry: read only by the outputs meant to
-- name patients, `consent --open` and the consent report) with the date they were issued (processed date, else the report's date), for
-- the profile ?1 (NULL = every profile).
SELECT c.id, c.report_id, COALESCE(c.processed_on, r.report_date), c.patient_ref, c.status,
       c.reason_code, c.consent_code, c.source_file, rf.profile, r.sha256,
       c.last_name, c.first_name, c.middle_name, COALESCE(c.dob, c.dob_raw)
FROM consent_notice c JOIN report r ON r.id = c.report_id
LEFT JOIN remote_file rf ON rf.id = r.remote_file_id
WHERE ?1 IS NULL OR rf.profile = ?1
ORDER BY 3, c.id
