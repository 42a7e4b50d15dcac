-- Reopen: the item has no hand state any more (its history stays in worklist_event).
DELETE FROM worklist_action WHERE profile = ?1 AND batch = ?2 AND message_index = ?3
