-- Whether any file or upload of this profile is in the history.
SELECT EXISTS (SELECT 1 FROM remote_file WHERE profile = ?1)
    OR EXISTS (SELECT 1 FROM upload WHERE profile = ?1)
