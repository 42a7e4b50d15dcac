-- Sent batches without an answer yet: (name, date sent, messages). ?1: profile or NULL.
SELECT name, COALESCE(sent_on, substr(recorded_at, 1, 10)), messages
FROM sent_batch
WHERE report_id IS NULL AND (?1 IS NULL OR profile = ?1)
ORDER BY 2, 1
