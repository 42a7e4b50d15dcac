-- The messages of one sent batch with their answer and worklist item (if any), in the order
-- sent. ?1: the batch name; ?2: profile or NULL. No names, no birth dates: references only.
SELECT lm.message_index, lm.control_id, lm.site, lm.patient_ref, lm.status, lm.inferred,
       (SELECT group_concat(v.vaccine, ', ') FROM ledger_vaccination v WHERE v.message_id = lm.id),
       (SELECT min(v.administered_on) FROM ledger_vaccination v WHERE v.message_id = lm.id),
       wi.message_id IS NOT NULL,
       b.profile
FROM sent_batch b
JOIN ledger_message lm ON lm.batch_id = b.id
LEFT JOIN worklist_item wi ON wi.message_id = lm.id
WHERE b.name = ?1 AND (?2 IS NULL OR b.profile = ?2)
ORDER BY b.profile, lm.message_index
