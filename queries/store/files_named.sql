-- Stored versions whose remote name, or content hash prefix (8+ characters), matches.
SELECT MIN(id) FROM remote_file
WHERE name = ?1 OR (length(?1) >= 8 AND sha256 LIKE ?1 || '%')
GROUP BY sha256
ORDER BY MIN(id)
