-- Totals over the parsed history.
SELECT (SELECT COUNT(*) FROM report),
       (SELECT COUNT(*) FROM submission),
       (SELECT COALESCE(SUM(count), 0) FROM finding),
       (SELECT COUNT(*) FROM consent_notice)
