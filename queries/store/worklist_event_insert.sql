-- One hand action on a worklist item, with its note and who took it (history, append-only).
INSERT INTO worklist_event (profile, batch, message_index, action, note, by_user, at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
