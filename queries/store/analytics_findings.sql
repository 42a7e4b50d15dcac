-- Finding columns for the columnar cache, for reports after a given id, in report order.
SELECT report_id, field, code, severity, count
FROM finding WHERE report_id > ?1
ORDER BY report_id, id
