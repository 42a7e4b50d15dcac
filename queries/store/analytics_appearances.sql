-- Patients named in DQA findings, by date, and whether the finding is consent-related, for
-- the profile ?1 (NULL = every profile).
SELECT f.patient_ref, r.report_date,
       MAX(CASE WHEN f.code IN ('CLR-100','CLR-101','CLR-105','CLR-106','IMR-132','IMR-133')
                THEN 1 ELSE 0 END)
FROM finding f JOIN report r ON r.id = f.report_id
LEFT JOIN remote_file rf ON rf.id = r.remote_file_id
WHERE f.patient_ref IS NOT NULL AND r.report_date IS NOT NULL
  AND (?1 IS NULL OR rf.profile = ?1)
GROUP BY f.patient_ref, r.report_date, f.report_id
