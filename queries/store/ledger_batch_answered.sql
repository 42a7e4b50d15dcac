UPDATE sent_batch SET report_id = ?2, answered_at = ?3 WHERE id = ?1
