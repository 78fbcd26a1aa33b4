//! `newsdesk export` and `newsdesk import`.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use super::{Exit, ensure_first_admin, open_db};
use crate::config::Config;
use crate::files::Files;
use crate::transfer::{export, ghost, import, wordpress};

/// What an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    /// A `newsdesk export` file (NDJSON).
    Newsdesk,
    /// A WordPress export (WXR, from Tools → Export).
    Wordpress,
    /// A Ghost export (JSON, from Settings → Labs → Export).
    Ghost,
}

fn bar(len: u64, what: &str) -> ProgressBar {
    // Drawn on standard error when it is a terminal; hidden in a pipe or a log.
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} {msg} ({elapsed}, {eta} left)")
    {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

/// `newsdesk export [--output FILE] [--with-files] [--with-credentials]`
pub fn export_command(
    config: &Config,
    output: Option<&Path>,
    options: export::ExportOptions,
) -> Result<(), Exit> {
    let db = open_db(config)?;
    let files = if options.with_files {
        Some(
            Files::open(&config.media_store, &config.media_public_url)
                .map_err(|e| Exit::new(1, format!("cannot open the media store: {e}")))?,
        )
    } else {
        None
    };
    let started = std::time::Instant::now();
    let progress = bar(0, "articles");
    let sink: Box<dyn Write + Send> = match output {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|e| Exit::new(1, format!("cannot create {}: {e}", path.display())))?;
            Box::new(BufWriter::with_capacity(1 << 20, file))
        }
        None => Box::new(BufWriter::with_capacity(1 << 20, std::io::stdout())),
    };
    let worker_bar = progress.clone();
    let summary = db.read_blocking(move |conn| {
        let mut sink = sink;
        // One snapshot for the whole export.
        use diesel::Connection;
        conn.transaction(|c| {
            if matches!(*c, crate::db::DbConn::Postgres(_)) {
                use diesel::RunQueryDsl;
                diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(c)?;
            }
            export::export(c, &mut sink, options, files.as_ref(), &worker_bar)
        })
    })?;
    progress.finish_and_clear();
    let counts: Vec<String> = summary
        .counts
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    eprintln!(
        "exported {} records in {:.1} s: {}",
        summary.total(),
        started.elapsed().as_secs_f64(),
        counts.join(", ")
    );
    Ok(())
}

/// `newsdesk import FILE [--from wordpress|ghost] [--merge]`
pub fn import_command(
    config: &Config,
    path: &PathBuf,
    from: ImportFormat,
    options: import::ImportOptions,
) -> Result<(), Exit> {
    let file = std::fs::File::open(path)
        .map_err(|e| Exit::new(1, format!("cannot open {}: {e}", path.display())))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    // The records, and the name an interrupted import of the same source resumes by.
    let (source, mut lines, total): (String, Box<dyn Iterator<Item = import::Line> + Send>, u64) =
        match from {
            ImportFormat::Newsdesk => {
                let mut reader = BufReader::with_capacity(1 << 20, file);
                let mut first = String::new();
                reader
                    .read_line(&mut first)
                    .map_err(|e| Exit::new(1, format!("cannot read {}: {e}", path.display())))?;
                let header: serde_json::Value = serde_json::from_str(first.trim_end())
                    .map_err(|_| Exit::new(1, not_an_export(path)))?;
                if header["type"] != crate::transfer::FORMAT {
                    return Err(Exit::new(1, not_an_export(path)));
                }
                let id = header["export_id"]
                    .as_str()
                    .ok_or_else(|| Exit::new(1, not_an_export(path)))?
                    .to_owned();
                let rest = reader.lines().enumerate().map_while(|(i, l)| match l {
                    Ok(l) => Some((i + 2, l)),
                    Err(e) => {
                        eprintln!("line {}: cannot be read: {e}", i + 2);
                        None
                    }
                });
                let lines = std::iter::once((1, first.trim_end().to_owned()))
                    .chain(rest.filter(|(_, l)| !l.trim().is_empty()));
                // Lines estimated from the size, for the progress bar only.
                (id, Box::new(lines), size / 3_000 + 1)
            }
            ImportFormat::Wordpress | ImportFormat::Ghost => {
                let mut bytes = Vec::new();
                BufReader::new(file)
                    .read_to_end(&mut bytes)
                    .map_err(|e| Exit::new(1, format!("cannot read {}: {e}", path.display())))?;
                let records = if from == ImportFormat::Wordpress {
                    wordpress::records(&bytes, &config.languages)
                } else {
                    ghost::records(&bytes, &config.languages)
                }
                .map_err(|e| Exit::new(1, format!("{}: {e}", path.display())))?;
                let id = format!(
                    "{}:{}",
                    if from == ImportFormat::Wordpress {
                        "wordpress"
                    } else {
                        "ghost"
                    },
                    crate::auth::secrets::sha256_hex(&String::from_utf8_lossy(&bytes))
                );
                let total = records.len() as u64;
                let lines = records
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| (i + 1, r.to_string()));
                (id, Box::new(lines), total)
            }
        };
    let db = open_db(config)?;
    ensure_first_admin(&db, config.admin.as_ref())?;
    let admin = db
        .read_blocking(crate::domain::users::first_active_admin)?
        .ok_or_else(|| Exit::new(1, "no active admin to record as the importer"))?;
    let files = Files::open(&config.media_store, &config.media_public_url)
        .map_err(|e| Exit::new(1, format!("cannot open the media store: {e}")))?;
    let started = std::time::Instant::now();
    let progress = bar(total, "records");
    let report = import::import(
        &db,
        &source,
        &mut lines,
        options,
        config.languages.clone(),
        admin,
        Some(files),
        &progress,
    )?;
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    if let Some(line) = report.resumed_after {
        eprintln!("carried on after line {line}, where an earlier run of this import stopped");
    }
    let list = |counts: &[(String, u64)]| {
        counts
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    eprintln!(
        "imported {} records in {seconds:.1} s: {}",
        report.total(),
        list(&report.imported)
    );
    if !report.matched.is_empty() {
        eprintln!(
            "matched to existing ones and left as they were: {}",
            list(&report.matched)
        );
    }
    if report.files_missing > 0 {
        eprintln!(
            "{} uploaded images came without their files: copy the old MEDIA_DIR (or bucket) \
             here, or export again with --with-files",
            report.files_missing
        );
    }
    if report.files_imported > 0 {
        eprintln!(
            "{} uploaded images came with their files: make their renditions with \
             `newsdesk media renditions --rebuild`",
            report.files_imported
        );
    }
    if report.rejected.is_empty() {
        Ok(())
    } else {
        Err(Exit::new(
            1,
            format!(
                "{} records were refused (each is listed above with its line and reason)",
                report.rejected.len()
            ),
        ))
    }
}

fn not_an_export(path: &Path) -> String {
    format!(
        "{} does not start with a newsdesk export header (for WordPress or Ghost files, \
         pass --from wordpress or --from ghost)",
        path.display()
    )
}
