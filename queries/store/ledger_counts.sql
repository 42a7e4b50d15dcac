-- The ledger in numbers: batches, then messages per answer status.
SELECT (SELECT count(*) FROM sent_batch), status, count(*)
FROM ledger_message GROUP BY status
UNION ALL SELECT (SELECT count(*) FROM sent_batch), NULL, 0
