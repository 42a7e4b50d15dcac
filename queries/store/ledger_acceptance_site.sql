-- Answer statuses of sent messages per batch × site (a message with several sites counts for
-- each; historical doses left out). ?1: profile or NULL.
SELECT b.name, b.sent_on, lm.week, b.profile, lm.site, COUNT(*),
       SUM(lm.status = 'accepted'), SUM(lm.status = 'accepted_with_warnings'),
       SUM(lm.status = 'rejected'), SUM(lm.status = 'pending'), SUM(lm.status = 'not_mentioned'),
       SUM(lm.inferred)
FROM ledger_message lm
JOIN sent_batch b ON b.id = lm.batch_id

WHERE ?1 IS NULL OR b.profile = ?1
GROUP BY b.id, 5
ORDER BY b.sent_on, b.name, 5
