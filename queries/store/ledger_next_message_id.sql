-- The next free ledger message id (read inside the writer's immediate transaction).
SELECT COALESCE(MAX(id), 0) + 1 FROM ledger_message
