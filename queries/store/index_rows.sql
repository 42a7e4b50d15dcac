-- Every recorded file version, for the archive index (written once for a store from before
-- the index existed).
SELECT rf.sha256, rf.size, rf.profile, rf.folder, rf.name, rf.kind, rf.mtime, rf.fetched_at
FROM remote_file rf
ORDER BY rf.id
