-- The manifest entry of one remote file, with the content hash of its current version.
SELECT m.size, m.mtime, f.sha256, f.id
FROM manifest m JOIN remote_file f ON f.id = m.remote_file_id
WHERE m.profile = ?1 AND m.folder = ?2 AND m.name = ?3
