-- Forget a batch's answer before linking it again (rows already as new are not rewritten).
UPDATE finding SET message_id = NULL
WHERE message_id IN (SELECT id FROM ledger_message WHERE batch_id = ?1);
UPDATE ledger_message SET status = 'pending', inferred = 0
WHERE batch_id = ?1 AND (status <> 'pending' OR inferred <> 0);
UPDATE sent_batch SET report_id = NULL, answered_at = NULL WHERE id = ?1 AND report_id IS NOT NULL;
