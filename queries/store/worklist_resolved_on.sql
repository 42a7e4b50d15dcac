-- When each resolved worklist item of a profile (?1, NULL = every profile) was resolved: the
-- date of the answer that accepted the first later message for the same patient (the item was
-- resolved by a resubmission the registry accepted).
SELECT wi.message_id,
       (SELECT min(COALESCE(r.report_date, b2.sent_on))
        FROM ledger_message m2
        JOIN sent_batch b2 ON b2.id = m2.batch_id
        LEFT JOIN report r ON r.id = b2.report_id
        WHERE m2.patient_ref = lm.patient_ref
          AND (m2.status = 'accepted' OR m2.status = 'accepted_with_warnings')
          AND (m2.message_time > lm.message_time
               OR (m2.message_time = lm.message_time AND m2.id > lm.id)))
FROM worklist_item wi
JOIN ledger_message lm ON lm.id = wi.message_id
JOIN sent_batch b ON b.id = lm.batch_id
WHERE wi.resolved = 1 AND (?1 IS NULL OR b.profile = ?1)
