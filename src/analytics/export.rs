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

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Parquet,
}

/// Column order of the findings export (the documented schema).
pub const FINDINGS_COLUMNS: [&str; 18] = [
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
    format: ExportFormat,
    range: DateRange,
) -> Result<u64, AnalyticsError> {
    let file = BufWriter::new(File::create(out)?);
    match format {
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
                    w.write_record([
                        c.report_id[i].to_string().as_str(),
                        day,
                        week,
                        c.submission[i].as_deref().unwrap_or(""),
                        &c.format[i],
                        c.message_control_id[i].as_deref().unwrap_or(""),
                        index.as_deref().unwrap_or(""),
                        c.patient_ref[i].as_deref().unwrap_or(""),
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
            let n = store.export_findings(range, 500_000, |c| {
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

/// Write a result table as CSV or Parquet (all columns as text except numbers).
pub fn export_table(t: &Table, out: &Path, format: ExportFormat) -> Result<(), AnalyticsError> {
    match format {
        ExportFormat::Csv => {
            t.write_csv(BufWriter::new(File::create(out)?))
                .map_err(io_err)?;
        }
        ExportFormat::Parquet => {
            let n = t.rows.len();
            let mut cols = Vec::new();
            for (i, name) in t.columns.iter().enumerate() {
                let numeric = t.rows.iter().all(|r| {
                    matches!(
                        r[i],
                        crate::table::Value::Int(_) | crate::table::Value::Null
                    )
                });
                let col = if numeric && n > 0 {
                    Column::new(
                        name.as_str().into(),
                        t.rows
                            .iter()
                            .map(|r| match r[i] {
                                crate::table::Value::Int(x) => Some(x),
                                _ => None,
                            })
                            .collect::<Vec<_>>(),
                    )
                } else {
                    Column::new(
                        name.as_str().into(),
                        t.rows
                            .iter()
                            .map(|r| match &r[i] {
                                crate::table::Value::Null => None,
                                v => Some(v.render()),
                            })
                            .collect::<Vec<_>>(),
                    )
                };
                cols.push(col);
            }
            let mut df = DataFrame::new(n, cols)?;
            ParquetWriter::new(BufWriter::new(File::create(out)?)).finish(&mut df)?;
        }
    }
    Ok(())
}
