INSERT INTO fetch_run (profile, remote, started_at) VALUES (?1, ?2, ?3)
