-- One hand action on a worklist item, with its note, who took it and (assigned) to whom
-- (history, append-only).
INSERT INTO worklist_event (profile, batch, message_index, action, note, by_user, at, assignee)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
