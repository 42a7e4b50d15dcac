-- B9's reference: the open worklist computed from the ledger's base tables in one query (what
-- a user of the sqlite3 CLI would write): sent messages that were rejected or carry findings,
-- with their vaccinations and codes, not closed by hand and not re-sent and accepted later.
SELECT lm.id, b.profile, b.name, lm.message_index, lm.patient_ref, lm.site, lm.status,
       COALESCE(r.report_date, b.sent_on) AS opened,
       (SELECT group_concat(v.vaccine, ' ') FROM ledger_vaccination v WHERE v.message_id = lm.id),
       (SELECT min(v.administered_on) FROM ledger_vaccination v WHERE v.message_id = lm.id),
       (SELECT v.provider FROM ledger_vaccination v WHERE v.message_id = lm.id ORDER BY v.seq LIMIT 1),
       (SELECT group_concat(COALESCE(f.code, '') || char(31) || f.severity || char(31)
                            || COALESCE(f.field, '') || char(31) || f.text, char(30))
        FROM finding f WHERE f.message_id = lm.id),
       wa.action, wa.note,
       CASE WHEN lm.patient_ref IS NULL THEN 0
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
       END AS resolved
FROM ledger_message lm
JOIN sent_batch b ON b.id = lm.batch_id
LEFT JOIN report r ON r.id = b.report_id
LEFT JOIN worklist_action wa
       ON wa.profile = b.profile AND wa.batch = b.name AND wa.message_index = lm.message_index
WHERE (lm.status = 'rejected' OR EXISTS (SELECT 1 FROM finding f WHERE f.message_id = lm.id))
  AND wa.action IS NULL
  AND NOT resolved
ORDER BY opened, lm.id
