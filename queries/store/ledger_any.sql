-- Whether the ledger holds any sent batch (without counting its messages).
SELECT EXISTS (SELECT 1 FROM sent_batch)
