SELECT folder, name, outcome, reason FROM fetch_event WHERE run_id = ?1 ORDER BY id
