UPDATE fetch_run SET finished_at = ?2, new_files = ?3, changed_files = ?4, unchanged_files = ?5,
    skipped_files = ?6, failed_files = ?7, bytes = ?8
WHERE id = ?1
