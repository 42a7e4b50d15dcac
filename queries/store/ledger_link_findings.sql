-- Each finding of the answer to its sent message: on MSH-10 = the finding's control id, else on
-- the message's position in the batch.
UPDATE finding SET message_id = (
    SELECT lm.id FROM ledger_message lm
    WHERE lm.batch_id = ?1 AND lm.control_id = finding.message_control_id)
WHERE report_id = ?2 AND message_control_id IS NOT NULL;
UPDATE finding SET message_id = (
    SELECT lm.id FROM ledger_message lm
    WHERE lm.batch_id = ?1 AND lm.message_index = finding.message_index)
WHERE report_id = ?2 AND message_control_id IS NULL AND message_index IS NOT NULL;
