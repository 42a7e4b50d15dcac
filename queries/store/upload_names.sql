-- Every remote name used by earlier uploads of a profile.
SELECT remote_name FROM upload WHERE profile = ?1
