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
                columns: t.columns.clone(),
                rows: t.rows[..n].to_vec(),
                types: t.types.clone(),
                default_columns: t.default_columns.clone(),
            };
            t = &picked;
        }
        write_table(t, self.format, self.out.as_deref())
    }
}

/// Write a table in `format` to `out` (None or `-`: standard output), streamed: a large
/// listing (the worklist over a million messages) is never held whole as text as well as a
/// table. A closed standard output ends the process quietly, as `cat` does.
pub fn write_table(t: &Table, format: Format, out: Option<&std::path::Path>) -> anyhow::Result<()> {
    let file = out.filter(|p| p.as_os_str() != "-");
    let write = |w: &mut dyn std::io::Write| -> anyhow::Result<()> {
        match format {
            // a file gets whole cells and every default column, whatever the terminal's width
            Format::Table if file.is_some() => writeln!(w, "{}", t.render_plain(None))?,
            Format::Table => writeln!(w, "{}", t.to_terminal())?,
            Format::Csv => t.write_csv(&mut *w)?,
            Format::Json => {
                serde_json::to_writer_pretty(&mut *w, &t.to_json())?;
                writeln!(w)?;
            }
        }
        w.flush()?;
        Ok(())
    };
    match file {
        Some(p) => {
            let f = std::fs::File::create(p)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
            write(&mut std::io::BufWriter::with_capacity(1 << 16, f))
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
            eprintln!("wrote {} rows to {}", t.rows.len(), p.display());
        }
        None => {
            if let Err(e) = write(&mut std::io::BufWriter::new(std::io::stdout().lock())) {
                if broken_pipe(&e) {
                    end_on_closed_pipe();
                }
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Whether an error is a write to a closed pipe (`immdqa worklist | head`), read from the
/// error's kind, whichever writer (io, csv, serde_json) reported it.
pub fn broken_pipe(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == BrokenPipe)
            || c.downcast_ref::<csv::Error>().is_some_and(
                |ce| matches!(ce.kind(), csv::ErrorKind::Io(io) if io.kind() == BrokenPipe),
            )
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|je| je.io_error_kind() == Some(BrokenPipe))
    })
}

/// Write to standard output (the `out!` macro); a closed pipe ends the process quietly, any
/// other failure to write is reported once on standard error and ends it with exit 3.
pub fn write_out(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut so = std::io::stdout().lock();
    if let Err(e) = so.write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            end_on_closed_pipe();
        }
        drop(so);
        eprintln!("immdqa: cannot write to standard output: {e}");
        std::process::exit(crate::cli::Exit::Error as i32);
    }
}

/// End the process as `cat` does when its reader went away: by SIGPIPE, quietly.
pub fn end_on_closed_pipe() -> ! {
    // SAFETY: restoring the default disposition and raising it: the process ends here.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    std::process::exit(141)
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
