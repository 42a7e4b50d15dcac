-- The worklist (kept current by worklist_refresh.sql, which also gathers what it shows),
-- oldest answer first, with the action taken by hand and every note (time, who: note). ?1: profile or NULL; ?2: 1 for every
-- item, 0 for open ones only. Owners and ignored codes are applied by the caller.
SELECT lm.id, b.profile, b.name, lm.message_index, lm.patient_ref, lm.site, lm.status,
       wi.opened, wi.vaccines, wi.administered_on, wi.provider, wi.codes,
       wa.action,
       (SELECT group_concat(replace(substr(e.at, 1, 16), 'T', ' ') || COALESCE(' ' || e.by_user, '') || ': ' || e.note,
                            ' | ' ORDER BY e.id)
        FROM worklist_event e
        WHERE e.profile = b.profile AND e.batch = b.name AND e.message_index = lm.message_index
          AND e.note IS NOT NULL) AS notes,
       wi.resolved
FROM worklist_item wi
JOIN ledger_message lm ON lm.id = wi.message_id
JOIN sent_batch b ON b.id = lm.batch_id
LEFT JOIN worklist_action wa
       ON wa.profile = b.profile AND wa.batch = b.name AND wa.message_index = lm.message_index
WHERE (?1 IS NULL OR b.profile = ?1)
  AND (?2 OR (wi.resolved = 0 AND wa.action IS NULL))
ORDER BY wi.opened, wi.message_id
