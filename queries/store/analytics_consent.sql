-- Consent notices with the date they were issued (processed date, else the report's date).
SELECT c.id, c.report_id, COALESCE(c.processed_on, r.report_date), c.patient_ref, c.status,
       c.reason_code, c.consent_code, c.source_file
FROM consent_notice c JOIN report r ON r.id = c.report_id
ORDER BY 3, c.id
