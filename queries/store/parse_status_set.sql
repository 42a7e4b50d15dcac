-- Mark every stored version with this content (same bytes under several names alike).
UPDATE remote_file SET parse_status = ?2, parse_error = ?3 WHERE sha256 = ?1
