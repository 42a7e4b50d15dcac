INSERT INTO submission (file_name, import_code, submitted_on, seq) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (file_name) DO UPDATE SET import_code = excluded.import_code
RETURNING id
