-- A per-dose breakdown: {col} is the ledger_vaccination column (vaccine or provider), filled in
-- from a fixed list by the caller.
-- Findings linked to sent messages, per week × {col} × code × field × severity (the {col} of the
-- message; a message with several {col}s counts once for each; historical doses left out).
-- ?1: profile or NULL; ?2, ?3: the first and last week (Monday, ISO) or NULL.
SELECT lm.week, b.profile, v.k, f.code, f.field, f.severity, SUM(f.count)
FROM finding f
JOIN ledger_message lm ON lm.id = f.message_id
JOIN sent_batch b ON b.id = lm.batch_id
JOIN (SELECT DISTINCT message_id, {col} AS k FROM ledger_vaccination WHERE historical = 0) v ON v.message_id = lm.id
WHERE f.message_id IS NOT NULL AND (?1 IS NULL OR b.profile = ?1)
  AND (?2 IS NULL OR lm.week >= ?2) AND (?3 IS NULL OR lm.week <= ?3)
GROUP BY 1, 2, 3, 4, 5, 6
