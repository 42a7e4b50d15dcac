-- A report being ingested; kind/format/counts are filled in when the parse completes.
INSERT INTO report (sha256, remote_file_id, kind, format, parsed_at, parser_version)
VALUES (?1, ?2, 'dqa', 'pending', ?3, ?4)
