UPDATE sent_batch SET messages = ?2, sent_on = COALESCE(sent_on, ?3) WHERE id = ?1
