-- Refresh the worklist after a batch (?1) was linked to its answer: its items again, then the
-- resolution of every item of the patients the batch names (a later accepted message for the
-- same patient reference, vaccine and administration date, for each vaccination; the same
-- patient for a message without one).
DELETE FROM worklist_item
WHERE message_id IN (SELECT id FROM ledger_message WHERE batch_id = ?1);
INSERT INTO worklist_item (message_id, opened, vaccines, administered_on, provider, codes)
SELECT lm.id, COALESCE(r.report_date, b.sent_on),
       (SELECT group_concat(v.vaccine, ' ') FROM ledger_vaccination v WHERE v.message_id = lm.id),
       (SELECT min(v.administered_on) FROM ledger_vaccination v WHERE v.message_id = lm.id),
       (SELECT v.provider FROM ledger_vaccination v WHERE v.message_id = lm.id ORDER BY v.seq LIMIT 1),
       (SELECT group_concat(COALESCE(f.code, '') || char(31) || f.severity || char(31)
                            || COALESCE(f.field, '') || char(31) || f.text, char(30))
        FROM finding f WHERE f.message_id = lm.id)
FROM ledger_message lm
JOIN sent_batch b ON b.id = lm.batch_id
LEFT JOIN report r ON r.id = b.report_id
WHERE lm.batch_id = ?1
  AND (lm.status = 'rejected' OR EXISTS (SELECT 1 FROM finding f WHERE f.message_id = lm.id));
UPDATE worklist_item SET resolved = (
    SELECT CASE
        WHEN lm.patient_ref IS NULL THEN 0
        WHEN EXISTS (SELECT 1 FROM ledger_vaccination v WHERE v.message_id = lm.id) THEN
            NOT EXISTS (
                SELECT 1 FROM ledger_vaccination v WHERE v.message_id = lm.id AND NOT EXISTS (
                    SELECT 1 FROM ledger_message m2
                    JOIN ledger_vaccination v2 ON v2.message_id = m2.id
                    WHERE m2.patient_ref = lm.patient_ref AND v2.vaccine = v.vaccine
                      AND v2.administered_on IS v.administered_on
                      AND (m2.status = 'accepted' OR m2.status = 'accepted_with_warnings')
                      AND (m2.message_time > lm.message_time
                           OR (m2.message_time = lm.message_time AND m2.id > lm.id))))
        ELSE EXISTS (
            SELECT 1 FROM ledger_message m2
            WHERE m2.patient_ref = lm.patient_ref
              AND (m2.status = 'accepted' OR m2.status = 'accepted_with_warnings')
              AND (m2.message_time > lm.message_time
                   OR (m2.message_time = lm.message_time AND m2.id > lm.id)))
        END
    FROM ledger_message lm WHERE lm.id = worklist_item.message_id)
WHERE message_id IN (
    SELECT m.id FROM ledger_message m
    WHERE m.patient_ref IN (SELECT patient_ref FROM ledger_message WHERE batch_id = ?1));
