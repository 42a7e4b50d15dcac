-- Completeness: which fields a registry relies on were present in each sent dose, as bits
-- (domain::Field: 1 lot, 2 expiry, 4 MVX, 8 NDC, 16 RXR-1 route, 32 RXR-2 site, 64 RXA-10,
-- 128 ORC-12, 256 OBX 64994-7 VFC eligibility, 512 OBX 30963-3 funding, 1024 PD1-12/13
-- consent, 2048 PID-11 address, 4096 PID-13 phone, 8192 NK1). Never the values. NULL for
-- doses read before it was kept: they count as unknown, not as missing.
ALTER TABLE ledger_vaccination ADD COLUMN fields INTEGER;
