-- Files in the history per profile, folder kind and parse status.
SELECT profile, kind, parse_status, COUNT(*), COALESCE(SUM(size), 0)
FROM remote_file
GROUP BY profile, kind, parse_status
ORDER BY profile, kind, parse_status
