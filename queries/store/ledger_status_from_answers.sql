-- Status from an acknowledgement's per-message answers (MSA-2, else position); what it does not
-- mention is marked so.
UPDATE ledger_message SET status = COALESCE(
    (SELECT a.status FROM answer a
     WHERE a.report_id = ?2 AND a.message_control_id = ledger_message.control_id LIMIT 1),
    (SELECT a.status FROM answer a
     WHERE a.report_id = ?2 AND a.message_control_id IS NULL
       AND a.message_index = ledger_message.message_index LIMIT 1),
    'not_mentioned')
WHERE batch_id = ?1
