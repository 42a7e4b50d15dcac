-- A name seen in the accepted folder (the first sighting is kept).
INSERT INTO accepted_seen (profile, name, first_seen_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING
