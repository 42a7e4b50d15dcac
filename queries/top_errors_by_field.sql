-- name: top_errors_by_field
-- Findings per HL7 field and severity since a date (default: the start of this month).
-- params: since (YYYY-MM-DD)
SELECT f.field, f.severity, SUM(f.count) AS findings, COUNT(DISTINCT f.report_id) AS reports,
       GROUP_CONCAT(DISTINCT f.code) AS codes
FROM finding f JOIN report r ON r.id = f.report_id
WHERE r.report_date >= COALESCE(:since, date('now', 'start of month'))
GROUP BY f.field, f.severity
ORDER BY findings DESC
LIMIT 50
