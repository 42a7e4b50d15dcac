-- A per-dose breakdown: {col} is the ledger_vaccination column (vaccine or provider), filled in
-- from a fixed list by the caller.
-- Sent messages per week × {col} (messages holding an administered dose of it). ?1: profile or NULL; ?2, ?3: the first
-- and last week (Monday, ISO) or NULL.
SELECT lm.week, b.profile, v.{col}, COUNT(DISTINCT lm.id)
FROM ledger_vaccination v
JOIN ledger_message lm ON lm.id = v.message_id
JOIN sent_batch b ON b.id = lm.batch_id
WHERE v.historical = 0 AND (?1 IS NULL OR b.profile = ?1)
  AND (?2 IS NULL OR lm.week >= ?2) AND (?3 IS NULL OR lm.week <= ?3)
GROUP BY 1, 2, 3
