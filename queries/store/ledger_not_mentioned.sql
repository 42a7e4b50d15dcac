-- Sent messages of a week (?2, its Monday) that their batch's answer does not mention, per batch.
-- ?1: profile or NULL.
SELECT b.name, COUNT(*)
FROM ledger_message lm JOIN sent_batch b ON b.id = lm.batch_id
WHERE lm.status = 'not_mentioned' AND lm.week = ?2 AND (?1 IS NULL OR b.profile = ?1)
GROUP BY b.name ORDER BY b.name
