-- Sent messages per week × site (the denominators of the site breakdown). ?1: profile or NULL;
-- ?2, ?3: the first and last week (Monday, ISO) or NULL.
SELECT lm.week, b.profile, lm.site, COUNT(*)
FROM ledger_message lm JOIN sent_batch b ON b.id = lm.batch_id
WHERE (?1 IS NULL OR b.profile = ?1)
  AND (?2 IS NULL OR lm.week >= ?2) AND (?3 IS NULL OR lm.week <= ?3)
GROUP BY 1, 2, 3
