INSERT INTO fetch_event (run_id, folder, name, outcome, reason) VALUES (?1, ?2, ?3, ?4, ?5)
