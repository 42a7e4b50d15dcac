-- The audit trail, oldest first. ?1: first instant (RFC 3339) or NULL; ?2: user or NULL.
SELECT id, at, user_name, address, event, detail, items
FROM audit
WHERE (?1 IS NULL OR at >= ?1)
  AND (?2 IS NULL OR user_name = ?2)
ORDER BY id
