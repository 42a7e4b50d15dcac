-- Sent messages (ids given by the writer, so their vaccinations go in by the same multi-row insert).
INSERT INTO ledger_message (id, batch_id, message_index, control_id, message_time, week, facility,
                            site, patient_ref)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
