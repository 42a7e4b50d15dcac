-- A per-dose breakdown: {col} is the ledger_vaccination column (vaccine or provider), filled in
-- from a fixed list by the caller.
-- Answer statuses of sent messages per batch × {col} (a message with several {col}s counts for
-- each; historical doses left out). ?1: profile or NULL; ?2, ?3: the first and last week
-- (Monday, ISO) or NULL.
SELECT b.name, b.sent_on, lm.week, b.profile, v.k, COUNT(*),
       SUM(lm.status = 'accepted'), SUM(lm.status = 'accepted_with_warnings'),
       SUM(lm.status = 'rejected'), SUM(lm.status = 'pending'), SUM(lm.status = 'not_mentioned'),
       SUM(lm.inferred)
FROM ledger_message lm
JOIN sent_batch b ON b.id = lm.batch_id
JOIN (SELECT DISTINCT message_id, {col} AS k FROM ledger_vaccination WHERE historical = 0) v ON v.message_id = lm.id
WHERE (?1 IS NULL OR b.profile = ?1)
  AND (?2 IS NULL OR lm.week >= ?2) AND (?3 IS NULL OR lm.week <= ?3)
GROUP BY b.id, 5
ORDER BY b.sent_on, b.name, 5
