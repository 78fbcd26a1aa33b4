//! `newsdesk media ...`: bulk work on the media library from the command line.

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use super::{Exit, open_db};
use crate::config::Config;
use crate::domain::input::Input;
use crate::domain::media::picture::{self, Format};
use crate::domain::media::upload::{self, Rules};
use crate::domain::media::{self, MediaCreate};
use crate::files::Files;

/// `newsdesk media ...`
#[derive(Debug, clap::Subcommand)]
pub enum MediaCommand {
    /// Upload every image in a folder (and its subfolders) to the media library, as an
    /// upload through the API would: metadata removed, renditions made. Files whose
    /// content is already in the library are skipped, as are files that are not JPEG,
    /// PNG, WebP or GIF images.
    Import {
        /// The folder to read.
        dir: PathBuf,
        /// Credit given to every imported image ("AP").
        #[arg(long)]
        credit: Option<String>,
        /// Language of the imported items [default: the first configured language]
        #[arg(long)]
        language: Option<String>,
    },
    /// Make the renditions of every uploaded image again, at the widths configured now
    /// (MEDIA_WIDTHS), and point the media items at them.
    Renditions {
        /// Remake them (required: the command does nothing else).
        #[arg(long, required = true)]
        rebuild: bool,
    },
}

fn progress(total: u64, what: &str) -> ProgressBar {
    // Drawn on standard error when it is a terminal; hidden in a pipe or a log.
    let bar = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} {msg} ({elapsed}, {eta} left)")
    {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

fn runtime() -> Result<tokio::runtime::Runtime, Exit> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Exit::new(1, format!("cannot start: {e}")))
}

fn images_under(dir: &Path) -> Result<Vec<PathBuf>, Exit> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder)
            .map_err(|e| Exit::new(1, format!("cannot read {}: {e}", folder.display())))?;
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => folders.push(path),
                Ok(t) if t.is_file() => found.push(path),
                _ => {}
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Runs a `media` subcommand.
pub fn run(config: &Config, command: MediaCommand) -> Result<(), Exit> {
    let db = open_db(config)?;
    let files = Files::open(&config.media_store, &config.media_public_url)
        .map_err(|e| Exit::new(1, format!("cannot open the media store: {e}")))?;
    let rules = Rules {
        max_pixels: config.media_max_pixels,
        widths: config.media_widths.clone(),
    };
    let runtime = runtime()?;
    match command {
        MediaCommand::Renditions { .. } => {
            let started = std::time::Instant::now();
            let bar = progress(0, "images");
            let done = runtime.block_on(upload::rebuild(&db, &files, &rules, |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            }))?;
            bar.finish_and_clear();
            println!(
                "remade the renditions of {done} images at widths {:?} in {:.1} s",
                rules.widths,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        MediaCommand::Import {
            dir,
            credit,
            language,
        } => {
            let paths = images_under(&dir)?;
            let started = std::time::Instant::now();
            let bar = progress(paths.len() as u64, "files");
            let (mut imported, mut duplicates, mut refused) = (0u64, 0u64, Vec::new());
            for path in paths {
                bar.set_message(path.display().to_string());
                match import_one(
                    config, &db, &files, &rules, &runtime, &path, &credit, &language,
                ) {
                    Ok(true) => imported += 1,
                    Ok(false) => duplicates += 1,
                    Err(reason) => refused.push(format!("{}: {reason}", path.display())),
                }
                bar.inc(1);
            }
            bar.finish_and_clear();
            for line in &refused {
                eprintln!("skipped {line}");
            }
            println!(
                "imported {imported} images ({duplicates} already in the library, {} skipped) \
                 from {} in {:.1} s",
                refused.len(),
                dir.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

/// Imports one file: `Ok(false)` when its content is already in the library.
#[allow(clippy::too_many_arguments)]
fn import_one(
    config: &Config,
    db: &crate::db::Db,
    files: &Files,
    rules: &Rules,
    runtime: &tokio::runtime::Runtime,
    path: &Path,
    credit: &Option<String>,
    language: &Option<String>,
) -> Result<bool, String> {
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > config.media_max_bytes {
        return Err(format!(
            "{size} bytes, more than MEDIA_MAX_BYTES ({})",
            config.media_max_bytes
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let format = Format::sniff(&bytes).ok_or("not a JPEG, PNG, WebP or GIF image")?;
    let prepared = picture::prepare(&bytes, format, rules.max_pixels).map_err(|e| e.to_string())?;
    drop(bytes);
    let sha = upload::sha256_hex(&prepared.stored);
    let held = db
        .read_blocking(move |conn| upload::is_held(conn, &sha))
        .map_err(|e| e.to_string())?;
    if held {
        return Ok(false);
    }
    let processed = picture::finish(prepared, &rules.widths);
    let uploaded = runtime
        .block_on(upload::put_all(files, processed))
        .map_err(|e| e.to_string())?;
    let body = MediaCreate {
        credit: credit.clone().map_or(Input::Absent, Input::Value),
        language: language.clone().map_or(Input::Absent, Input::Value),
        ..MediaCreate::default()
    };
    let languages = config.languages.clone();
    db.write_content_blocking(move |conn| media::insert(conn, body, &languages, Some(uploaded)))
        .map_err(|e| match e {
            crate::error::AppError::Validation(errors) => errors
                .iter()
                .map(|e| format!("{} {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        })?;
    Ok(true)
}
