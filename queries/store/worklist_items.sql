-- The worklist (kept current by worklist_refresh.sql, which also gathers what it shows),
-- oldest answer first, with the action taken by hand and every note (time, who: note). ?1: profile or NULL; ?2: 1 for every
-- item, 0 for open ones only. Owners and ignored codes are applied by the caller.
-- Every item's notes in one pass over the (small) action history, joined once: not a
-- subquery per item (50,000 open items, benchmark B9).
WITH notes AS (
    SELECT profile, batch, message_index,
           group_concat(replace(substr(at, 1, 16), 'T', ' ') || COALESCE(' ' || by_user, '')
                        || ': ' || note, ' | ' ORDER BY id) AS notes
    FROM worklist_event
    WHERE note IS NOT NULL
    GROUP BY profile, batch, message_index
)
SELECT lm.id, b.profile, b.name, lm.message_index, lm.patient_ref, lm.site, lm.status,
       wi.opened, wi.vaccines, wi.administered_on, wi.provider, wi.codes,
       wa.action,
       n.notes,
       wi.resolved,
       NULLIF(asg.assignee, '')
FROM worklist_item wi
JOIN ledger_message lm ON lm.id = wi.message_id
JOIN sent_batch b ON b.id = lm.batch_id
LEFT JOIN worklist_action wa
       ON wa.profile = b.profile AND wa.batch = b.name AND wa.message_index = lm.message_index
LEFT JOIN worklist_assignee asg
       ON asg.profile = b.profile AND asg.batch = b.name AND asg.message_index = lm.message_index
LEFT JOIN notes n
       ON n.profile = b.profile AND n.batch = b.name AND n.message_index = lm.message_index
WHERE (?1 IS NULL OR b.profile = ?1)
  AND (?2 OR (wi.resolved = 0 AND wa.action IS NULL))
ORDER BY wi.opened, wi.message_id
