-- An item's current assignee (the latest 'assigned' event; an empty name unassigns).
INSERT INTO worklist_assignee (profile, batch, message_index, assignee, at)
VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (profile, batch, message_index)
DO UPDATE SET assignee = excluded.assignee, at = excluded.at
