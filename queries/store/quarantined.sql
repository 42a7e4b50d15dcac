-- Files no parser could read, with the reason.
SELECT folder, name, parse_error FROM remote_file WHERE parse_status = 'quarantined' ORDER BY id
