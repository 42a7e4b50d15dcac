-- 0004: what the whole acknowledgement says: ERR-3 and ERR-5 per finding, query traffic per
-- report (counted apart from acknowledged VXU messages).

ALTER TABLE finding ADD COLUMN hl7_error_code TEXT;     -- ERR-3 (HL7 table 0357)
ALTER TABLE finding ADD COLUMN app_error_code TEXT;     -- ERR-5 (table 0533 or the registry's own)
ALTER TABLE report ADD COLUMN query_messages INTEGER;   -- RSP^K11, ACK^Q21, …: not VXU answers
