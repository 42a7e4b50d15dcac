//! Exports: tables as CSV, and the findings history as CSV or Parquet (streamed in chunks,
//! so a history of millions of findings exports in bounded memory).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use super::{AnalyticsError, week_label, week_start};
use crate::store::analytics::ExportChunk;
use crate::store::{DateRange, Store};
use crate::table::Table;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Parquet,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Parquet => "parquet",
        }
    }
}

/// What can be exported — by `immdqa export` and by a report definition's `exports` (one
/// list: a new dataset is one variant here and its table below).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dataset {
    Findings,
    Submissions,
    Trends,
    Consent,
    /// Every worklist item (open, resolved, closed, ignored): patient references.
    Worklist,
    /// Every sent message with its answer (site, provider, vaccine, status).
    Ledger,
    /// The scorecard per site and week.
    Score,
    /// Completeness per site and week.
    Completeness,
}

impl Dataset {
    /// Every dataset, in the order `immdqa export --help` lists them.
    pub const ALL: [Dataset; 8] = [
        Dataset::Findings,
        Dataset::Submissions,
        Dataset::Trends,
        Dataset::Consent,
        Dataset::Worklist,
        Dataset::Ledger,
        Dataset::Score,
        Dataset::Completeness,
    ];

    /// What it holds, in a line (`immdqa export --help`).
    pub fn summary(self) -> &'static str {
        match self {
            Dataset::Findings => "Every finding of every report",
            Dataset::Submissions => "One row per batch: messages, acceptance, findings",
            Dataset::Trends => "Findings per week and field",
            Dataset::Consent => "Consent notices and their follow-ups",
            Dataset::Worklist => "The worklist, every item (open, resolved, closed, ignored)",
            Dataset::Ledger => {
                "Every sent message with its answer (site, provider, vaccine, status)"
            }
            Dataset::Score => "The scorecard per site and week",
            Dataset::Completeness => "Completeness per site and week",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dataset::Findings => "findings",
            Dataset::Submissions => "submissions",
            Dataset::Trends => "trends",
            Dataset::Consent => "consent",
            Dataset::Worklist => "worklist",
            Dataset::Ledger => "ledger",
            Dataset::Score => "score",
            Dataset::Completeness => "completeness",
        }
    }

    /// Its file in a report folder.
    pub fn file(self) -> String {
        format!("{}.csv", self.name())
    }
}

/// What a dataset's table is computed over: the range and the settings (the CLI's options,
/// or a report's week or window).
pub struct DatasetQuery<'a> {
    /// Reports, batches or weeks on or after this day (None: from the start).
    pub since: Option<NaiveDate>,
    /// On or before this day (None: to the end).
    pub until: Option<NaiveDate>,
    /// Consent follow-up ages, the worklist's ages, lint's "not in the future".
    pub today: NaiveDate,
    pub worklist: &'a crate::config::WorklistConfig,
    pub owners: &'a crate::config::OwnersConfig,
    pub score: &'a crate::config::ScoreConfig,
    pub registries: &'a crate::config::Registries,
}

/// A profile's history, loaded the first time a dataset needs it (the ledger's datasets do
/// not: loading the findings' cache is most of a report's time on a large history).
pub struct LazyHistory<'a> {
    store: &'a Store,
    profile: Option<String>,
    loaded: std::cell::OnceCell<super::History>,
}

impl<'a> LazyHistory<'a> {
    pub fn new(store: &'a Store, profile: Option<&str>) -> LazyHistory<'a> {
        LazyHistory {
            store,
            profile: profile.map(str::to_string),
            loaded: std::cell::OnceCell::new(),
        }
    }

    fn get(&self) -> Result<&super::History, AnalyticsError> {
        if let Some(h) = self.loaded.get() {
            return Ok(h);
        }
        let h = super::History::load_scoped(self.store, self.profile.as_deref())?;
        Ok(self.loaded.get_or_init(|| h))
    }
}

impl Dataset {
    /// Its table (every dataset but `findings`, which streams: [`export_findings`]); `immdqa
    /// export` and a report's `exports` both write this (a new dataset is one arm here).
    pub fn table(
        self,
        store: &Store,
        history: &LazyHistory<'_>,
        q: &DatasetQuery<'_>,
    ) -> Result<Table, AnalyticsError> {
        let profile = history.profile.as_deref();
        let in_range =
            |d: NaiveDate| q.since.is_none_or(|s| d >= s) && q.until.is_none_or(|u| d <= u);
        // the per-week datasets: from the first week there can be, to this week
        let weeks = || {
            let first = NaiveDate::from_ymd_opt(2000, 1, 3).unwrap_or_default();
            (
                week_start(q.since.unwrap_or(first)),
                week_start(q.until.unwrap_or(q.today)),
            )
        };
        Ok(match self {
            Dataset::Findings => {
                return Err(AnalyticsError::Usage(
                    "the findings export streams to a file (export_findings)".into(),
                ));
            }
            Dataset::Submissions => {
                let mut rows = super::submissions::submissions(history.get()?, q.since)?;
                rows.retain(|s| s.date.is_none_or(|d| q.until.is_none_or(|u| d <= u)));
                super::submissions::table(&rows)
            }
            Dataset::Trends => {
                let opts = super::trends::TrendOptions {
                    since: q.since,
                    until: q.until,
                    split_profiles: true,
                    ..Default::default()
                };
                let t = super::trends::trends(history.get()?, &opts)?;
                super::trends::table(&t, super::trends::TrendBy::Field)
            }
            Dataset::Consent => {
                let mut v = super::consent::consent(store, history.get()?, q.today)?;
                v.notices.retain(|n| n.date.is_none_or(in_range));
                super::consent::notices_table(&v, q.today)
            }
            Dataset::Worklist => {
                let filter = crate::ledger::worklist::Filter {
                    all: true,
                    since: q.since,
                    ..Default::default()
                };
                let owners = crate::ledger::owners::Owners::new(q.owners);
                let mut items = crate::ledger::worklist::load(
                    store, profile, q.worklist, &owners, &filter, q.today,
                )?;
                items.retain(|i| q.until.is_none_or(|u| i.opened.is_none_or(|o| o <= u)));
                crate::ledger::worklist::table(&items)
            }
            Dataset::Ledger => ledger_table(store, profile, q.since, q.until)?,
            Dataset::Score => {
                let inputs = super::score::ScoreInputs {
                    weights: q.score,
                    registries: q.registries,
                    today: q.today,
                };
                let rows = super::score::scores(store, profile, weeks(), &inputs)?;
                super::score::table(&rows, q.score)
            }
            Dataset::Completeness => {
                let (from, to) = weeks();
                let by = super::completeness::By::Site;
                let rows = super::completeness::rows(store, by, from, to, profile)?;
                super::completeness::table(&rows, by)
            }
        })
    }
}

/// The ledger dataset: every sent message of a profile (None: all) with its answer, for the
/// weeks from `first_week` to `last_week` (Mondays; None: unbounded).
pub fn ledger_table(
    store: &Store,
    profile: Option<&str>,
    first_week: Option<NaiveDate>,
    last_week: Option<NaiveDate>,
) -> Result<Table, AnalyticsError> {
    let week = |d: Option<NaiveDate>| d.map(|d| week_start(d).to_string());
    let rows = store.ledger_export_rows(
        profile,
        week(first_week).as_deref(),
        week(last_week).as_deref(),
    )?;
    let mut t = Table::new(&crate::store::ledger::LEDGER_EXPORT_COLUMNS);
    for r in rows {
        t.push(
            r.into_iter()
                .map(crate::table::Value::opt_text_owned)
                .collect(),
        );
    }
    Ok(t)
}

/// How an export is written.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub format: ExportFormat,
    /// Report dates and the profile.
    pub range: DateRange,
    /// With a key, patient references become a keyed HMAC ([`pseudonym`]).
    pub pseudonym_key: Option<Vec<u8>>,
}

/// The environment variable holding the pseudonymisation key.
pub const PSEUDONYM_KEY_ENV: &str = "IMMDQA_PSEUDONYM_KEY";

/// The key for `--pseudonymize`, from [`PSEUDONYM_KEY_ENV`] (at least 16 bytes; never
/// printed).
pub fn pseudonym_key_from_env() -> Result<Vec<u8>, AnalyticsError> {
    match std::env::var(PSEUDONYM_KEY_ENV) {
        Ok(k) if k.len() >= 16 => Ok(k.into_bytes()),
        Ok(_) => Err(AnalyticsError::Usage(format!(
            "{PSEUDONYM_KEY_ENV} is shorter than 16 characters: use a long random key (e.g. `openssl rand -hex 32`) and keep it to map pseudonyms back"
        ))),
        Err(_) => Err(AnalyticsError::Usage(format!(
            "--pseudonymize needs a key in the environment variable {PSEUDONYM_KEY_ENV} (e.g. `export {PSEUDONYM_KEY_ENV}=$(openssl rand -hex 32)`)"
        ))),
    }
}

/// A patient reference's pseudonym: HMAC-SHA256 under the key, first 16 bytes as hex. The
/// same reference and key give the same pseudonym (exports stay joinable); without the key
/// it cannot be reversed or recomputed.
pub fn pseudonym(key: &[u8], patient_ref: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(patient_ref.as_bytes());
    mac.finalize().into_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Pseudonymise a table's `patient_ref` column in place (no key: unchanged).
pub fn pseudonymize_table(t: &mut Table, key: Option<&[u8]>) {
    let (Some(key), Some(i)) = (key, t.col("patient_ref")) else {
        return;
    };
    for r in &mut t.rows {
        if let crate::table::Value::Text(p) = &r[i] {
            r[i] = crate::table::Value::Text(pseudonym(key, p));
        }
    }
}

/// Split a Parquet file into a Hive-partitioned folder `out/COLUMN=VALUE/data.parquet` (a
/// null value goes to `COLUMN=__HIVE_DEFAULT_PARTITION__`). `out` must be new or empty.
/// Returns the number of partitions.
pub fn partition_parquet(src: &Path, column: &str, out: &Path) -> Result<usize, AnalyticsError> {
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        return Err(AnalyticsError::Usage(format!(
            "{} exists and is not empty: --partition-by writes a new folder",
            out.display()
        )));
    }
    std::fs::create_dir_all(out)?;
    let scan = || {
        LazyFrame::scan_parquet(
            PlRefPath::new(src.display().to_string()),
            ScanArgsParquet::default(),
        )
    };
    let values = scan()?
        .select([col(column)])
        .unique(None, UniqueKeepStrategy::First)
        .collect()?;
    let values = values.column(column)?.str()?.clone();
    let values: Vec<Option<String>> = (0..values.len())
        .map(|i| values.get(i).map(str::to_string))
        .collect();
    for v in &values {
        let (dir, filter) = match v {
            Some(v) => (
                format!("{column}={}", hive_escape(v)),
                col(column).eq(lit(v.clone())),
            ),
            None => (
                format!("{column}=__HIVE_DEFAULT_PARTITION__"),
                col(column).is_null(),
            ),
        };
        let dir = out.join(dir);
        std::fs::create_dir_all(&dir)?;
        // the partition column lives in the folder name (Hive), not in the file
        let mut df = scan()?
            .filter(filter)
            .drop(by_name([column], true, false))
            .collect()?;
        ParquetWriter::new(BufWriter::new(File::create(dir.join("data.parquet"))?))
            .finish(&mut df)?;
    }
    Ok(values.len())
}

/// A value safe as a folder name (`%XX` for anything but letters, digits, `-` and `_`).
fn hive_escape(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Column order of the findings export (the documented schema).
pub const FINDINGS_COLUMNS: [&str; 21] = [
    "report_id",
    "report_date",
    "week",
    "submission",
    "report_format",
    "message_control_id",
    "message_index",
    "patient_ref",
    "segment",
    "field",
    "code",
    "severity",
    "count",
    "text",
    "week_start",
    "hl7_error_code",
    "app_error_code",
    "profile",
    "import_code",
    "report_hash",
    "site",
];

fn chunk_frame(c: ExportChunk) -> PolarsResult<DataFrame> {
    let n = c.report_id.len();
    let week: Vec<Option<String>> = c.report_date.iter().map(|d| d.map(week_label)).collect();
    let day = |d: &Option<chrono::NaiveDate>| d.map(super::days);
    let dates: Vec<Option<i32>> = c.report_date.iter().map(day).collect();
    let starts: Vec<Option<i32>> = c
        .report_date
        .iter()
        .map(|d| d.map(|d| super::days(week_start(d))))
        .collect();
    DataFrame::new(
        n,
        vec![
            Column::new("report_id".into(), c.report_id),
            Column::new("report_date".into(), dates).cast(&DataType::Date)?,
            Column::new("week".into(), week),
            Column::new("submission".into(), c.submission),
            Column::new("report_format".into(), c.format),
            Column::new("message_control_id".into(), c.message_control_id),
            Column::new("message_index".into(), c.message_index),
            Column::new("patient_ref".into(), c.patient_ref),
            Column::new("segment".into(), c.segment),
            Column::new("field".into(), c.field),
            Column::new("code".into(), c.code),
            Column::new("severity".into(), c.severity),
            Column::new("count".into(), c.count),
            Column::new("text".into(), c.text),
            Column::new("week_start".into(), starts).cast(&DataType::Date)?,
            Column::new("hl7_error_code".into(), c.hl7_error_code),
            Column::new("app_error_code".into(), c.app_error_code),
            Column::new("profile".into(), c.profile),
            Column::new("import_code".into(), c.import_code),
            Column::new("report_hash".into(), c.report_hash),
            Column::new("site".into(), c.site),
        ],
    )
}

fn io_err(e: impl std::fmt::Display) -> crate::store::StoreError {
    crate::store::StoreError::Io {
        path: "export".into(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// Write every finding to `out`; returns the number of rows.
pub fn export_findings(
    store: &Store,
    out: &Path,
    opts: &ExportOptions,
) -> Result<u64, AnalyticsError> {
    let file = BufWriter::new(File::create(out)?);
    let range = opts.range.clone();
    let key = opts.pseudonym_key.as_deref();
    let pseudo = |p: Option<String>| p.map(|p| key.map(|k| pseudonym(k, &p)).unwrap_or(p));
    match opts.format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(file);
            w.write_record(FINDINGS_COLUMNS).map_err(io_err)?;
            // Rows come in report order: a report's date columns are formatted once.
            let mut dates: (Option<NaiveDate>, [String; 3]) = (None, Default::default());
            let n = store.export_findings(range, 100_000, |c| {
                for i in 0..c.report_id.len() {
                    let d = c.report_date[i];
                    if dates.0 != d {
                        dates = (
                            d,
                            [
                                d.map(|d| d.to_string()).unwrap_or_default(),
                                d.map(week_label).unwrap_or_default(),
                                d.map(|d| week_start(d).to_string()).unwrap_or_default(),
                            ],
                        );
                    }
                    let [day, week, monday] = &dates.1;
                    let index = c.message_index[i].map(|x| x.to_string());
                    let patient = pseudo(c.patient_ref[i].clone());
                    w.write_record([
                        c.report_id[i].to_string().as_str(),
                        day,
                        week,
                        c.submission[i].as_deref().unwrap_or(""),
                        &c.format[i],
                        c.message_control_id[i].as_deref().unwrap_or(""),
                        index.as_deref().unwrap_or(""),
                        patient.as_deref().unwrap_or(""),
                        c.segment[i].as_deref().unwrap_or(""),
                        c.field[i].as_deref().unwrap_or(""),
                        c.code[i].as_deref().unwrap_or(""),
                        &c.severity[i],
                        c.count[i].to_string().as_str(),
                        &c.text[i],
                        monday,
                        c.hl7_error_code[i].as_deref().unwrap_or(""),
                        c.app_error_code[i].as_deref().unwrap_or(""),
                        c.profile[i].as_deref().unwrap_or(""),
                        c.import_code[i].as_deref().unwrap_or(""),
                        &c.report_hash[i],
                        c.site[i].as_deref().unwrap_or(""),
                    ])
                    .map_err(io_err)?;
                }
                Ok(())
            })?;
            w.flush()?;
            Ok(n)
        }
        ExportFormat::Parquet => {
            let mut writer: Option<polars::io::parquet::write::BatchedWriter<BufWriter<File>>> =
                None;
            let mut file = Some(file);
            let n = store.export_findings(range, 500_000, |mut c| {
                if key.is_some() {
                    c.patient_ref = std::mem::take(&mut c.patient_ref)
                        .into_iter()
                        .map(pseudo)
                        .collect();
                }
                let df = chunk_frame(c).map_err(io_err)?;
                if writer.is_none() {
                    let w = ParquetWriter::new(file.take().expect("file once"))
                        .batched(df.schema())
                        .map_err(io_err)?;
                    writer = Some(w);
                }
                writer.as_mut().unwrap().write_batch(&df).map_err(io_err)
            })?;
            match writer {
                Some(w) => {
                    w.finish()?;
                }
                None => {
                    // no findings: an empty file with the schema
                    let mut df = chunk_frame(ExportChunk::default())?;
                    ParquetWriter::new(file.take().expect("file")).finish(&mut df)?;
                }
            }
            Ok(n)
        }
    }
}

/// One table column as a typed polars column: the declared type (a fixed schema, the same
/// for an empty table), else inferred (integers, else text).
fn typed_column(t: &Table, i: usize) -> PolarsResult<Column> {
    use crate::table::{ColType, Value};
    let name = t.columns[i].as_str().into();
    let cells = || t.rows.iter().map(move |r| &r[i]);
    let ty = match t.types.get(i).copied().unwrap_or(ColType::Auto) {
        ColType::Auto
            if !t.rows.is_empty() && cells().all(|v| matches!(v, Value::Int(_) | Value::Null)) =>
        {
            ColType::Int
        }
        ColType::Auto => ColType::Text,
        ty => ty,
    };
    Ok(match ty {
        ColType::Int => Column::new(
            name,
            cells()
                .map(|v| match v {
                    Value::Int(x) => Some(*x),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        ),
        ColType::Float => Column::new(
            name,
            cells()
                .map(|v| match v {
                    Value::Float(x) => Some(*x),
                    Value::Int(x) => Some(*x as f64),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        ),
        ColType::Bool => Column::new(
            name,
            cells()
                .map(|v| match v {
                    Value::Bool(b) => Some(*b),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        ),
        ColType::Date => Column::new(
            name,
            cells()
                .map(|v| match v {
                    Value::Date(d) => Some(super::days(*d)),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )
        .cast(&DataType::Date)?,
        ColType::Text | ColType::Auto => Column::new(
            name,
            cells()
                .map(|v| match v {
                    Value::Null => None,
                    v => Some(v.render()),
                })
                .collect::<Vec<_>>(),
        ),
    })
}

/// A table as a typed data frame (the Parquet export).
pub fn table_frame(t: &Table) -> PolarsResult<DataFrame> {
    let cols = (0..t.columns.len())
        .map(|i| typed_column(t, i))
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(t.rows.len(), cols)
}

/// Write a result table as CSV or Parquet (typed columns: Int64, Float64, Boolean, Date,
/// String, as each export's documented schema says).
pub fn export_table(t: &Table, out: &Path, format: ExportFormat) -> Result<(), AnalyticsError> {
    match format {
        ExportFormat::Csv => {
            t.write_csv(BufWriter::new(File::create(out)?))
                .map_err(io_err)?;
        }
        ExportFormat::Parquet => {
            let mut df = table_frame(t)?;
            ParquetWriter::new(BufWriter::new(File::create(out)?)).finish(&mut df)?;
        }
    }
    Ok(())
}
