-- The stable key of a worklist item (its id is the ledger message's).
SELECT b.profile, b.name, lm.message_index
FROM ledger_message lm JOIN sent_batch b ON b.id = lm.batch_id WHERE lm.id = ?1
