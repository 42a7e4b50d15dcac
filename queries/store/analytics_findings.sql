-- Occurrences per (report, field, code, severity) for the columnar cache, for reports after a
-- given id, in report order (finding_sum is written with each report: a few rows per report
-- instead of every finding).
SELECT report_id, field, code, severity, count
FROM finding_sum WHERE report_id > ?1
ORDER BY report_id
