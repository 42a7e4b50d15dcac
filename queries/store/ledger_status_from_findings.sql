-- Status from a report that lists issues only (tabular, errors.txt): a message with an E finding is
-- rejected, with a W accepted with warnings; one it does not list was accepted. A report that
-- names no message at all (?3 = 0) answers none of them.
UPDATE ledger_message SET status = CASE
    WHEN ?3 = 0 THEN 'not_mentioned'
    WHEN EXISTS (SELECT 1 FROM finding f WHERE f.message_id = ledger_message.id AND f.severity = 'E')
        THEN 'rejected'
    WHEN EXISTS (SELECT 1 FROM finding f WHERE f.message_id = ledger_message.id AND f.severity = 'W')
        THEN 'accepted_with_warnings'
    ELSE 'accepted' END,
    inferred = (?3 <> 0 AND NOT EXISTS (SELECT 1 FROM finding f WHERE f.message_id = ledger_message.id))
WHERE batch_id = ?1
