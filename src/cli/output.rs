//! Output options shared by the table commands: terminal table, CSV or JSON, to stdout or a file.

use std::path::PathBuf;

use crate::table::Table;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Csv,
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to this file instead of standard output (`-`: standard output)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Only these columns, in this order (`--columns id,site,codes`); a terminal table shows
    /// the most useful ones by default, CSV and JSON every one
    #[arg(long, value_name = "A,B,C", value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// At most this many rows
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

impl OutputArgs {
    pub fn emit(&self, t: &Table) -> anyhow::Result<()> {
        let mut picked;
        let mut t = t;
        if let Some(cols) = &self.columns {
            picked = t
                .select(cols)
                .map_err(|m| crate::cli::UsageError(format!("--columns: {m}")))?;
            t = &picked;
        }
        if let Some(n) = self.limit.filter(|n| *n < t.rows.len()) {
            picked = Table {
                rows: t.rows[..n].to_vec(),
                ..t.clone()
            };
            t = &picked;
        }
        let text = match self.format {
            Format::Table => t.to_terminal() + "\n",
            Format::Csv => {
                let mut buf = Vec::new();
                t.write_csv(&mut buf)?;
                String::from_utf8(buf)?
            }
            Format::Json => serde_json::to_string_pretty(&t.to_json())? + "\n",
        };
        match self.out.as_ref().filter(|p| p.as_os_str() != "-") {
            Some(p) => {
                std::fs::write(p, text)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
                eprintln!("wrote {} rows to {}", t.rows.len(), p.display());
            }
            None => print!("{text}"),
        }
        Ok(())
    }
}

/// Read a whole file, or standard input for `-` (returns the name to show for it).
pub fn read_input(path: &std::path::Path) -> anyhow::Result<(String, Vec<u8>)> {
    use std::io::Read;
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| anyhow::anyhow!("cannot read standard input: {e}"))?;
        return Ok(("stdin".into(), buf));
    }
    let data = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    Ok((name, data))
}

/// Parse a `--since`/`--until` date (YYYY-MM-DD or an ISO week like 2025-W44).
/// The end of a range: a date, or an ISO week's Sunday (`--until 2025-W44` includes the whole
/// week).
pub fn parse_date_end(s: &str) -> Result<chrono::NaiveDate, String> {
    if s.contains(['W', 'w']) {
        return parse_date(s).map(|monday| monday + chrono::Duration::days(6));
    }
    parse_date(s)
}

/// Refuse a range that ends before it starts (a usage error, exit 64), instead of answering
/// it with nothing.
pub fn check_range(
    since: Option<chrono::NaiveDate>,
    until: Option<chrono::NaiveDate>,
) -> anyhow::Result<()> {
    if let (Some(s), Some(u)) = (since, until)
        && s > u
    {
        crate::cli::usage!("--since {s} is later than --until {u}: nothing is in that range");
    }
    Ok(())
}

pub fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .or_else(|| crate::analytics::parse_week(s))
        .ok_or_else(|| format!("'{s}' is not a date (YYYY-MM-DD) or an ISO week (2025-W44)"))
}
