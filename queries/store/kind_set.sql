-- What a local import's content turned out to be.
UPDATE remote_file SET kind = ?2 WHERE id = ?1
