INSERT INTO ledger_vaccination (message_id, seq, vaccine, ndc, administered_on, historical,
                                completion, provider, entered_by, ordering_provider, site,
                                age_years, days_to_report, fields)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
