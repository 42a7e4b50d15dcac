-- The intent is settled: the upload is recorded, or it never reached the server.
DELETE FROM upload_intent WHERE profile = ?1 AND remote_name = ?2
