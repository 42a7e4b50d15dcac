-- The worklist (kept current by worklist_refresh.sql), oldest answer first, with each item's
-- vaccinations, codes (code US severity US field US text, RS between findings) and the action
-- taken by hand. ?1: profile or NULL; ?2: 1 for every item, 0 for open ones only. Owners and
-- ignored codes are applied by the caller.
SELECT lm.id, b.profile, b.name, lm.message_index, lm.patient_ref, lm.site, lm.status,
       wi.opened,
       (SELECT group_concat(v.vaccine, ' ') FROM ledger_vaccination v WHERE v.message_id = lm.id),
       (SELECT min(v.administered_on) FROM ledger_vaccination v WHERE v.message_id = lm.id),
       (SELECT v.provider FROM ledger_vaccination v WHERE v.message_id = lm.id ORDER BY v.seq LIMIT 1),
       (SELECT group_concat(COALESCE(f.code, '') || char(31) || f.severity || char(31)
                            || COALESCE(f.field, '') || char(31) || f.text, char(30))
        FROM finding f WHERE f.message_id = lm.id),
       wa.action, wa.note, wi.resolved
FROM worklist_item wi
JOIN ledger_message lm ON lm.id = wi.message_id
JOIN sent_batch b ON b.id = lm.batch_id
LEFT JOIN worklist_action wa
       ON wa.profile = b.profile AND wa.batch = b.name AND wa.message_index = lm.message_index
WHERE (?1 IS NULL OR b.profile = ?1)
  AND (?2 OR (wi.resolved = 0 AND wa.action IS NULL))
ORDER BY wi.opened, wi.message_id
