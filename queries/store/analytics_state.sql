-- What the columnar cache compares against: number of reports and the highest id.
SELECT COUNT(*), COALESCE(MAX(id), 0) FROM report
