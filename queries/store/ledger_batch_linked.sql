-- Whether a sent batch is linked to an answer.
SELECT report_id IS NOT NULL FROM sent_batch WHERE id = ?1
