-- What an acknowledgement said about one message.
INSERT INTO answer (report_id, message_control_id, message_index, status) VALUES (?1, ?2, ?3, ?4)
