-- Every finding with its report's context, for `immdqa export findings`.
SELECT f.report_id, r.report_date, s.file_name, r.format, f.message_control_id, f.message_index,
       f.patient_ref, f.segment, f.field, f.code, f.severity, f.count, f.text
FROM finding f
JOIN report r ON r.id = f.report_id
LEFT JOIN submission s ON s.id = r.submission_id
ORDER BY f.report_id, f.id
