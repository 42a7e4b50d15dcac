-- A sent batch enters the ledger (a name already there keeps its first content).
INSERT INTO sent_batch (profile, name, sha256, source, sent_on, recorded_at, messages)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)
ON CONFLICT (profile, name) DO NOTHING
RETURNING id
