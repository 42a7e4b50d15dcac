-- Each message of sent batch ?1: (message_index, week, site), in the order sent.
SELECT message_index, week, site FROM ledger_message WHERE batch_id = ?1 ORDER BY message_index
