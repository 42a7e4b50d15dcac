-- Whether a profile's ledger holds a sent batch of this name.
SELECT EXISTS (SELECT 1 FROM sent_batch WHERE profile = ?1 AND name = ?2)
