-- The sent batches under a name (one per profile).
SELECT id FROM sent_batch WHERE name = ?1
