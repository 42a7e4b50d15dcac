-- Whether the registry accepted this dose (same patient reference, vaccine as sent, date) in
-- an earlier batch of the profile: sending it again draws a duplicate code.
SELECT EXISTS (
    SELECT 1
    FROM ledger_message lm
    JOIN ledger_vaccination v ON v.message_id = lm.id
    JOIN sent_batch b ON b.id = lm.batch_id
    WHERE lm.patient_ref = ?1
      AND v.vaccine = ?2
      AND v.administered_on = ?3
      AND lm.status IN ('accepted', 'accepted_with_warnings')
      AND b.profile = ?4
)
