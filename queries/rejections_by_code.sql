-- name: rejections_by_code
-- Rejection-class findings (severity E) per registry code and field, with an example text.
-- params: since (YYYY-MM-DD, optional)
SELECT f.code, f.field, SUM(f.count) AS findings, MIN(f.text) AS example_text
FROM finding f JOIN report r ON r.id = f.report_id
WHERE f.severity = 'E' AND r.report_date >= COALESCE(:since, '0000-01-01')
GROUP BY f.code, f.field
ORDER BY findings DESC
