//! The columnar cache of findings: Parquet part files under `<store>/columnar/`, so weekly
//! trends over millions of findings scan a few compressed columns instead of the SQLite rows.
//!
//! Reports are immutable once parsed; new reports get higher ids. The cache appends a part
//! for reports newer than the last one it holds, and rebuilds from scratch when reports were
//! removed or replaced (`reparse`). Parts and the manifest are written to a temp name and
//! renamed, so a reader never sees half a file. Holds no patient data (report id, field, code,
//! severity, count).

use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::AnalyticsError;
use crate::store::Store;
use crate::store::analytics::ReportRow;

const CHUNK_ROWS: usize = 2_000_000;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    version: u32,
    report_count: i64,
    max_report_id: i64,
    rows: u64,
    parts: Vec<String>,
}

fn dir_of(store: &Store) -> PathBuf {
    store.dir().join("columnar")
}

fn write_atomic(
    path: &Path,
    f: impl FnOnce(&mut fs::File) -> Result<(), AnalyticsError>,
) -> Result<(), AnalyticsError> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f(&mut file)?;
    file.sync_all()?;
    fs::rename(&tmp, path)?;
    Ok(())
}

/// The schema of a part file.
pub fn schema() -> Schema {
    Schema::from_iter([
        Field::new("report_id".into(), DataType::UInt32),
        Field::new("field".into(), DataType::String),
        Field::new("code".into(), DataType::String),
        Field::new("severity".into(), DataType::String),
        Field::new("count".into(), DataType::UInt32),
    ])
}

/// Bring the cache up to date with the store; returns the part files to scan.
pub fn refresh(store: &Store, reports: &[ReportRow]) -> Result<Vec<PathBuf>, AnalyticsError> {
    let dir = dir_of(store);
    crate::store::archive::mkdir_private(&dir)?;
    let manifest_path = dir.join("manifest.json");
    let (count, max_id) = store.report_state()?;
    let old: Option<Manifest> = fs::read(&manifest_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|m: &Manifest| m.version == 1 && m.parts.iter().all(|p| dir.join(p).exists()));
    let mut manifest = match old {
        Some(m)
            if m.max_report_id <= max_id
                && m.report_count
                    + reports.iter().filter(|r| r.id > m.max_report_id).count() as i64
                    == count =>
        {
            m
        }
        _ => {
            // Reports were removed or replaced (or no usable cache): start over.
            for e in fs::read_dir(&dir)?.flatten() {
                if e.file_name().to_string_lossy().ends_with(".parquet") {
                    fs::remove_file(e.path())?;
                }
            }
            Manifest {
                version: 1,
                ..Manifest::default()
            }
        }
    };
    if manifest.max_report_id < max_id || manifest.report_count != count {
        let after = manifest.max_report_id;
        let mut seq = 0;
        let mut new_parts = Vec::new();
        let rows = store.finding_chunks(after, CHUNK_ROWS, |chunk| {
            let n = chunk.len();
            let mut df = DataFrame::new(
                n,
                vec![
                    Column::new("report_id".into(), chunk.report_id),
                    Column::new("field".into(), chunk.field),
                    Column::new("code".into(), chunk.code),
                    Column::new("severity".into(), chunk.severity),
                    Column::new("count".into(), chunk.count),
                ],
            )
            .map_err(|e| crate::store::StoreError::Io {
                path: dir.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
            let name = format!("findings-{after:010}-{seq:04}.parquet");
            seq += 1;
            write_atomic(&dir.join(&name), |f| {
                ParquetWriter::new(f).finish(&mut df)?;
                Ok(())
            })
            .map_err(|e| crate::store::StoreError::Io {
                path: dir.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
            new_parts.push(name);
            Ok(())
        })?;
        manifest.parts.extend(new_parts);
        manifest.rows += rows;
        manifest.max_report_id = max_id;
        manifest.report_count = count;
        write_atomic(&manifest_path, |f| {
            use std::io::Write;
            f.write_all(&serde_json::to_vec_pretty(&manifest).expect("serialisable"))?;
            Ok(())
        })?;
    }
    Ok(manifest.parts.iter().map(|p| dir.join(p)).collect())
}

/// A lazy scan over the cached parts (an empty frame when there are none).
pub fn scan(parts: &[PathBuf]) -> Result<LazyFrame, AnalyticsError> {
    if parts.is_empty() {
        let df = DataFrame::empty_with_schema(&schema());
        return Ok(df.lazy());
    }
    let paths: Vec<PlRefPath> = parts
        .iter()
        .map(|p| PlRefPath::new(p.display().to_string()))
        .collect();
    let args = ScanArgsParquet {
        glob: false,
        ..ScanArgsParquet::default()
    };
    Ok(LazyFrame::scan_parquet_files(paths.into(), args)?)
}
