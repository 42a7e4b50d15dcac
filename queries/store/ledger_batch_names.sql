-- Every batch name in the ledger (relinking all).
SELECT DISTINCT name FROM sent_batch
