INSERT INTO finding (report_id, message_control_id, message_index, patient_ref, segment, field,
                     code, severity, text, raw, count, hl7_error_code, app_error_code)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
