-- A report's occurrences per (field, code, severity), written with the report.
INSERT INTO finding_sum (report_id, field, code, severity, count) VALUES (?1, ?2, ?3, ?4, ?5)
