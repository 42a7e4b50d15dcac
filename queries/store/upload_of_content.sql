-- The same content uploaded before (any name): the latest such upload.
SELECT remote_name, uploaded_at FROM upload
WHERE profile = ?1 AND sha256 = ?2
ORDER BY id DESC
LIMIT 1
