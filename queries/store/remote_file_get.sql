SELECT id, profile, folder, name, kind, size, mtime, sha256, parse_status FROM remote_file WHERE id = ?1
