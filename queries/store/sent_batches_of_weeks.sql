-- The sent batches holding messages of the weeks ?2..?3 (Mondays, ISO), of profile ?1 or all:
-- (id, profile, name, sha256, sent_on), oldest first. What validity lints again from the archive.
SELECT b.id, b.profile, b.name, b.sha256, b.sent_on
FROM sent_batch b
WHERE (?1 IS NULL OR b.profile = ?1)
  AND EXISTS (SELECT 1 FROM ledger_message lm
              WHERE lm.batch_id = b.id AND lm.week >= ?2 AND lm.week <= ?3)
ORDER BY b.id
