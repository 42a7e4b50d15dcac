INSERT INTO consent_notice (report_id, patient_ref, last_name, first_name, middle_name, dob, dob_raw,
                            consent_code, consent_date, consent_date_raw, reason_code, reason_text,
                            status, source_file, processed_on, raw)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
