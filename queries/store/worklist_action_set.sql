INSERT INTO worklist_action (profile, batch, message_index, action, note, at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (profile, batch, message_index)
DO UPDATE SET action = excluded.action, note = excluded.note, at = excluded.at
