-- A lower bound on the messages a report rejected, from its error findings alone: distinct
-- message control ids, else distinct message indexes; a report whose errors name no message
-- proves at least one rejection.
SELECT COUNT(DISTINCT COALESCE(message_control_id, 'index:' || message_index))
       + CASE WHEN COUNT(DISTINCT COALESCE(message_control_id, 'index:' || message_index)) = 0
                   AND COUNT(*) > 0 THEN 1 ELSE 0 END
FROM finding
WHERE report_id = ?1 AND severity = 'E'
