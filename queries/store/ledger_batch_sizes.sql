-- How many messages each sent batch of the ledger holds: (profile, name, messages).
SELECT profile, name, messages FROM sent_batch
