-- Stored versions to parse, one id per distinct content: every version (?1 = 1), else the
-- pending ones, and the quarantined ones too with ?2 = 1.
SELECT MIN(id) FROM remote_file
WHERE ?1 = 1 OR parse_status = 'pending' OR (?2 = 1 AND parse_status = 'quarantined')
GROUP BY sha256
ORDER BY MIN(id)
