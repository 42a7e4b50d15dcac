-- A consent follow-up closed (or reopened) by hand.
INSERT INTO consent_action (follow_up, action, note, by_user, at) VALUES (?1, ?2, ?3, ?4, ?5)
