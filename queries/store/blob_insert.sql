-- Register an archived blob (a no-op when the content is already archived).
INSERT INTO blob (sha256, size, stored_at) VALUES (?1, ?2, ?3)
ON CONFLICT (sha256) DO NOTHING
