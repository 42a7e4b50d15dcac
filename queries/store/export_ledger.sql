-- Every sent message with its answer (`immdqa export ledger`): ?1 profile or NULL, ?2/?3 the
-- first and last week (Monday, ISO) or NULL. The patient by reference only.
SELECT b.profile, b.name, b.source, b.sent_on, lm.message_index, lm.control_id,
       lm.message_time, lm.week, lm.facility, lm.site, lm.patient_ref, lm.status, lm.inferred,
       (SELECT group_concat(v.vaccine, ' ') FROM ledger_vaccination v WHERE v.message_id = lm.id),
       (SELECT min(v.administered_on) FROM ledger_vaccination v WHERE v.message_id = lm.id),
       (SELECT v.provider FROM ledger_vaccination v WHERE v.message_id = lm.id ORDER BY v.seq LIMIT 1),
       r.report_date, r.sha256
FROM ledger_message lm
JOIN sent_batch b ON b.id = lm.batch_id
LEFT JOIN report r ON r.id = b.report_id
WHERE (?1 IS NULL OR b.profile = ?1)
  AND (?2 IS NULL OR lm.week >= ?2)
  AND (?3 IS NULL OR lm.week <= ?3)
ORDER BY b.id, lm.message_index
