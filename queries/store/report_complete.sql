UPDATE report SET kind = ?2, format = ?3, submission_id = ?4, report_date = ?5, messages = ?6,
    accepted = ?7, accepted_with_warnings = ?8, rejected = ?9, skipped = ?10,
    finding_rows = ?11, consent_rows = ?12, query_messages = ?13
WHERE id = ?1
