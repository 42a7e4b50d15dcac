-- Every hand action on consent follow-ups, oldest first.
SELECT follow_up, action, note, by_user, at FROM consent_action ORDER BY id
