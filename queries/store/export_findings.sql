-- Findings with their report's context, for `immdqa export findings` and report folders:
-- every finding, or those of reports dated within [?1, ?2] (ISO dates; NULL = open end), of
-- the profile ?3 (NULL = every profile).
-- CROSS JOIN keeps reports as the outer loop (few rows, filtered by date), each report's
-- findings found through finding_by_report, already in (report_id, id) order.
-- An acknowledgement names no patient: a finding linked to its sent message carries the
-- patient reference and site the message ledger knows.
SELECT f.report_id, r.report_date, s.file_name, r.format, f.message_control_id, f.message_index,
       COALESCE(f.patient_ref, lm.patient_ref), f.segment, f.field, f.code, f.severity, f.count,
       f.text, f.hl7_error_code, f.app_error_code, rf.profile, s.import_code, r.sha256, lm.site
FROM report r
CROSS JOIN finding f ON f.report_id = r.id
LEFT JOIN ledger_message lm ON lm.id = f.message_id
LEFT JOIN submission s ON s.id = r.submission_id
LEFT JOIN remote_file rf ON rf.id = r.remote_file_id
WHERE (?1 IS NULL OR r.report_date >= ?1) AND (?2 IS NULL OR r.report_date <= ?2)
  AND (?3 IS NULL OR rf.profile = ?3)
ORDER BY r.id, f.id
