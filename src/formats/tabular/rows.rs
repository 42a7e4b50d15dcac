//! One row of a listing into findings or a consent notice: grouped cells filled down, codes run
//! together split, severity from a word, a letter, the code or the wording.

use super::*;

pub(super) const IDENTITY: [Role; 8] = [
    Role::File,
    Role::ControlId,
    Role::MessageIndex,
    Role::PatientRef,
    Role::LastName,
    Role::FirstName,
    Role::PatientName,
    Role::Dob,
];

/// Turns rows into findings or consent notices.
pub(super) struct RowProcessor<'a> {
    pub(super) layout: Layout,
    pub(super) delim: u8,
    pub(super) out: Tally<'a>,
    pub(super) previous_identity: RoleMap<String>,
    /// Normalised locations of the field cells seen so far (a report repeats a few dozen).
    pub(super) field_cache: HashMap<String, Option<codes::Location>>,
    pub(super) submission: Option<String>,
}

pub(super) static SUCCESS_PREFIXES: &[&str] = &["sent successfully", "accepted", "success", "ok"];

impl RowProcessor<'_> {
    pub(super) fn fill_down(&mut self, row: &mut Vec<String>) {
        let present = IDENTITY.iter().any(|r| self.layout.get(row, *r).is_some());
        if !present {
            for r in IDENTITY {
                if let (Some(&i), Some(v)) =
                    (self.layout.cols.get(&r), self.previous_identity.get(&r))
                {
                    if row.len() <= i {
                        row.resize(i + 1, String::new());
                    }
                    row[i] = v.clone();
                }
            }
        } else {
            self.previous_identity.clear();
            for r in IDENTITY {
                if let Some(v) = self.layout.get(row, r) {
                    self.previous_identity.insert(r, v.to_string());
                }
            }
        }
    }

    pub(super) fn row(&mut self, mut row: Vec<String>) -> Result<(), ParseFailure> {
        if row.iter().all(|c| c.trim().is_empty()) {
            return Ok(());
        }
        let raw = raw_row(&row, self.delim);
        self.fill_down(&mut row);
        if self.submission.is_none()
            && let Some(f) = self.layout.get(&row, Role::File)
        {
            self.submission = batch_name::parse(f).map(|b| b.file_name);
        }
        match self.layout.kind {
            // a layout is decided as DQA or CNF; a sent batch never reaches a report parser
            Kind::Dqa | Kind::Sent => self.finding_row(&row, raw),
            Kind::Cnf => self.consent_row(&row, raw),
        }
    }

    pub(super) fn finding_row(
        &mut self,
        row: &[String],
        mut raw: String,
    ) -> Result<(), ParseFailure> {
        let l = &self.layout;
        let message = l.get(row, Role::Message).unwrap_or("");
        let code_cell = l.get(row, Role::Code);
        let (prefix, mut parts) = codes::split_codes(message);
        let prefix_sev = codes::severity_of_word(prefix.trim_end_matches(['-', ':', ' ']));
        if parts.len() == 1 && parts[0].code.is_none() {
            let t = parts[0].text.to_ascii_lowercase();
            let t = t.trim_end_matches(['-', ':', ' ']);
            if SUCCESS_PREFIXES.contains(&t) && code_cell.is_none() {
                return Ok(()); // a success row with nothing to report
            }
        }
        if parts.is_empty() {
            if code_cell.is_none() {
                return Ok(()); // no issue in this row
            }
            parts.push(codes::CodedText {
                code: None,
                text: String::new(),
            });
        }
        let single = parts.len() == 1;
        let last = parts.len() - 1;
        for (i, part) in parts.into_iter().enumerate() {
            let code = part
                .code
                .clone()
                .or_else(|| {
                    code_cell
                        .filter(|_| single)
                        .map(|c| codes::find_code(c).unwrap_or_else(|| c.into()))
                })
                .or_else(|| catalogue().code_for_text(&part.text).map(Short::from));
            let cell = l.get(row, Role::Field).filter(|_| single);
            let loc = cell
                .and_then(|c| cached_field(&mut self.field_cache, c))
                .or_else(|| codes::field_in_text(&part.text))
                .or_else(|| {
                    code.as_deref()
                        .and_then(|c| catalogue().get(c))
                        .and_then(|i| i.field.as_deref())
                        .and_then(codes::normalize_field)
                });
            let sev = l
                .get(row, Role::Severity)
                .and_then(codes::severity_of_word)
                .or_else(|| {
                    code.as_deref()
                        .map(|c| codes::severity_of_code(c, &part.text))
                })
                .or(prefix_sev)
                .unwrap_or_else(|| codes::severity_of_text(&part.text));
            let f = Finding {
                message_control_id: l.get(row, Role::ControlId).map(Short::from),
                message_index: l.get(row, Role::MessageIndex).and_then(|v| v.parse().ok()),
                patient_ref: l.get(row, Role::PatientRef).map(Short::from),
                segment: loc.as_ref().map(|x| x.segment.clone()),
                field: loc.map(|x| x.field),
                code,
                severity: Some(sev),
                text: part.text,
                // the row's raw text: moved into its last finding, copied for the others
                raw: if i == last {
                    std::mem::take(&mut raw)
                } else {
                    raw.clone()
                },
                count: 1,
                ..Finding::default()
            };
            self.out.finding(f)?;
        }
        Ok(())
    }

    pub(super) fn consent_row(&mut self, row: &[String], raw: String) -> Result<(), ParseFailure> {
        let l = &self.layout;
        let s = |r: Role| l.get(row, r).map(str::to_string);
        let (mut last, mut first, mut middle) =
            (s(Role::LastName), s(Role::FirstName), s(Role::MiddleName));
        if last.is_none()
            && first.is_none()
            && let Some(full) = l.get(row, Role::PatientName)
        {
            (last, first, middle) = consent::split_name(full);
        }
        let reason_text = s(Role::ReasonText);
        let reason_code = l
            .get(row, Role::ReasonCode)
            .map(|c| codes::find_code(c).unwrap_or_else(|| c.into()))
            .or_else(|| reason_text.as_deref().and_then(codes::find_code))
            .map(String::from);
        let consent_code = s(Role::ConsentCode).map(|c| c.to_ascii_uppercase());
        let dob_raw = s(Role::Dob);
        let consent_date_raw = s(Role::ConsentDate);
        let status = consent::status(
            reason_code.as_deref(),
            reason_text.as_deref(),
            consent_code.as_deref(),
        );
        let notice = ConsentNotice {
            patient_ref: s(Role::PatientRef),
            last_name: last,
            first_name: first,
            middle_name: middle,
            dob: dob_raw.as_deref().and_then(consent::parse_date),
            dob_raw,
            consent_code,
            consent_date: consent_date_raw.as_deref().and_then(consent::parse_date),
            consent_date_raw,
            reason_code,
            reason_text,
            status,
            source_file: l.get(row, Role::File).map(|f| {
                batch_name::parse(f)
                    .map(|b| b.file_name)
                    .unwrap_or_else(|| f.to_string())
            }),
            processed_on: l.get(row, Role::Processed).and_then(consent::parse_date),
            raw,
        };
        self.out.consent(notice)
    }
}
