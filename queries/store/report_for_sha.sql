-- The report already parsed from this content, if any.
SELECT id FROM report WHERE sha256 = ?1
