-- Sent batches with a stored answer they are not linked to (a run stopped between storing the
-- answer and linking it): linked again by the next run.
SELECT DISTINCT b.name
FROM sent_batch b
JOIN submission s ON s.file_name = b.name
JOIN report r ON r.submission_id = s.id AND r.kind = 'dqa'
WHERE b.report_id IS NULL
ORDER BY b.name
