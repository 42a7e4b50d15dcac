SELECT count(*) FROM finding WHERE report_id = ?1 AND message_id IS NOT NULL
