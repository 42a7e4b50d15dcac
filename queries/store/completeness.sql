-- Completeness of administered doses (RXA-9 00 or empty, RXA-20 CP/PA or empty, not CVX 998)
-- per week and group: how many doses, how many of them carried each field (domain::Field,
-- bit n = 1 << n), and how many were given to minors (the NK1 share's base). {col} is a fixed
-- ledger_vaccination column (site, provider, vaccine). Doses read before the fields were kept
-- (fields NULL) are counted apart as unknown.
SELECT lm.week, v.{col},
       count(v.fields), sum(v.fields IS NULL),
       sum(v.fields & 1 > 0), sum(v.fields & 2 > 0), sum(v.fields & 4 > 0), sum(v.fields & 8 > 0),
       sum(v.fields & 16 > 0), sum(v.fields & 32 > 0), sum(v.fields & 64 > 0), sum(v.fields & 128 > 0),
       sum(v.fields & 256 > 0), sum(v.fields & 512 > 0), sum(v.fields & 1024 > 0),
       sum(v.fields & 2048 > 0), sum(v.fields & 4096 > 0),
       sum(v.age_years < 18 AND v.fields & 8192 > 0),
       sum(v.age_years < 18 AND v.fields IS NOT NULL)
FROM ledger_vaccination v
JOIN ledger_message lm ON lm.id = v.message_id
JOIN sent_batch b ON b.id = lm.batch_id
WHERE v.historical = 0
  AND coalesce(v.completion, 'CP') IN ('CP', 'PA')
  AND v.vaccine <> '998'
  AND lm.week >= ?1 AND lm.week <= ?2
  AND (?3 IS NULL OR b.profile = ?3)
GROUP BY lm.week, v.{col}
ORDER BY lm.week, v.{col}
