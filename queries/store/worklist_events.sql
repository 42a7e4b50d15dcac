-- The hand actions and notes of one worklist item, oldest first (assigned: to whom).
SELECT e.action, e.note, e.by_user, e.at, e.assignee
FROM worklist_event e
JOIN ledger_message lm ON lm.message_index = e.message_index
JOIN sent_batch b ON b.id = lm.batch_id AND b.profile = e.profile AND b.name = e.batch
WHERE lm.id = ?1
ORDER BY e.id
