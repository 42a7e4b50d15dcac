-- Answer statuses of sent messages per batch × site (the message's site). ?1: profile or NULL;
-- ?2, ?3: the first and last week (Monday, ISO) or NULL.
SELECT b.name, b.sent_on, lm.week, b.profile, lm.site, COUNT(*),
       SUM(lm.status = 'accepted'), SUM(lm.status = 'accepted_with_warnings'),
       SUM(lm.status = 'rejected'), SUM(lm.status = 'pending'), SUM(lm.status = 'not_mentioned'),
       SUM(lm.inferred)
FROM ledger_message lm
JOIN sent_batch b ON b.id = lm.batch_id
WHERE (?1 IS NULL OR b.profile = ?1)
  AND (?2 IS NULL OR lm.week >= ?2) AND (?3 IS NULL OR lm.week <= ?3)
GROUP BY b.id, 5
ORDER BY b.sent_on, b.name, 5
