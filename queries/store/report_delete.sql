-- Delete the report of this content (its findings and notices go with it: ON DELETE CASCADE).
DELETE FROM report WHERE sha256 = ?1
