-- Timeliness per week × site: administered doses (historical ones left out) with both dates,
-- how many reached the registry's inbox within 1, 7 and 30 days of administration (MSH-7 date −
-- RXA-3), and the mean delay. ?1: profile or NULL; ?2, ?3: the first
-- and last week (Monday, ISO) or NULL.
SELECT lm.week, b.profile, v.site, COUNT(*),
       SUM(v.days_to_report <= 1), SUM(v.days_to_report <= 7), SUM(v.days_to_report <= 30),
       AVG(v.days_to_report)
FROM ledger_vaccination v
JOIN ledger_message lm ON lm.id = v.message_id
JOIN sent_batch b ON b.id = lm.batch_id
WHERE v.historical = 0 AND v.days_to_report IS NOT NULL AND (?1 IS NULL OR b.profile = ?1)
  AND (?2 IS NULL OR lm.week >= ?2) AND (?3 IS NULL OR lm.week <= ?3)
GROUP BY 1, 2, 3
ORDER BY 1, 3
