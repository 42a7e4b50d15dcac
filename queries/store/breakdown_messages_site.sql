-- Sent messages per week × site (the denominators of the site breakdown). ?1: profile or NULL.
SELECT lm.week, b.profile, lm.site, COUNT(*)
FROM ledger_message lm JOIN sent_batch b ON b.id = lm.batch_id
WHERE ?1 IS NULL OR b.profile = ?1
GROUP BY 1, 2, 3
