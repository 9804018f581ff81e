//! `wangjie-import`: streams a catalogue file to wangjie's
//! `POST /admin/catalogue/import` in batches, shows a progress bar, and
//! ends with what the whole import did (imported, updated, unchanged,
//! rejected, with the reasons of the first rejections). With `--reindex`
//! and no file, it rebuilds the search keys of the whole catalogue instead.
//!
//! The server does all the reading and checking; this client only cuts the
//! file where a batch can stand alone and adds up the answers.

use anyhow::{bail, Result};
use clap::Parser;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use wangjie_import::reindex::reindex;
use wangjie_import::{import_file, Format, Options, Totals};

/// Import a catalogue file (CSV, MARC ISO 2709, MARCXML) into wangjie.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The catalogue file (none with --reindex).
    #[arg(required_unless_present = "reindex")]
    file: Option<PathBuf>,
    /// Rebuild the search keys of every record (after an upgrade that
    /// changes them), instead of importing a file.
    #[arg(long, conflicts_with = "file")]
    reindex: bool,
    /// With --reindex: start after this record id (to resume a walk).
    #[arg(long, default_value_t = 0, requires = "reindex")]
    after: i64,
    /// Base URL of the app.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// The operator's bearer token.
    #[arg(long, env = "WANGJIE_ADMIN_TOKEN", hide_env_values = true)]
    token: String,
    /// The file's format; guessed from its extension when absent
    /// (.csv; .mrc, .marc, .iso; .xml).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Records per request (import and reindex).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=20_000))]
    batch_size: u64,
    /// How many rejections to print in the summary.
    #[arg(long, default_value_t = 20)]
    show_rejections: usize,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let Some(file) = args.file else {
        let walked = reindex(&args.url, &args.token, args.after, args.batch_size, true)?;
        let seconds = started.elapsed().as_secs_f64().max(0.001);
        println!(
            "{} records re-keyed in {seconds:.1} s ({:.0} records/s), up to id {}",
            walked.records,
            walked.records as f64 / seconds,
            walked.last
        );
        return Ok(());
    };
    let format = match args.format.or_else(|| Format::guess(&file)) {
        Some(format) => format,
        None => bail!(
            "cannot guess the format of {}: pass --format",
            file.display()
        ),
    };
    let options = Options {
        url: args.url,
        token: args.token,
        format,
        batch_size: args.batch_size,
        keep_rejections: args.show_rejections,
        progress: true,
    };
    let totals = import_file(&file, &options)?;
    print_summary(&totals, started.elapsed());
    Ok(())
}

fn print_summary(totals: &Totals, elapsed: Duration) {
    let [imported, updated, unchanged, rejected, copies_imported, copies_updated, copies_unchanged] =
        totals.counts;
    // CSV rows are copies; what the server read as records is in the counts.
    let records = imported + updated + unchanged + rejected;
    let seconds = elapsed.as_secs_f64().max(0.001);
    println!(
        "{} entries sent, {records} records in {seconds:.1} s ({:.0} records/s)",
        totals.records,
        records as f64 / seconds
    );
    println!("records: {imported} imported, {updated} updated, {unchanged} unchanged, {rejected} rejected");
    println!("copies:  {copies_imported} imported, {copies_updated} updated, {copies_unchanged} unchanged");
    if rejected > 0 {
        println!("first rejections:");
        for rejection in &totals.rejections {
            let p = &rejection["position"];
            let mut at = format!("record {}", p["record"]);
            if let Some(line) = p["line"].as_u64() {
                at.push_str(&format!(", line {line}"));
            }
            if let Some(byte) = p["byte"].as_u64() {
                at.push_str(&format!(", byte {byte}"));
            }
            let key = rejection["key"]
                .as_str()
                .map(|k| format!(" [{k}]"))
                .unwrap_or_default();
            println!(
                "  {at}{key}: {}",
                rejection["reason"].as_str().unwrap_or("?")
            );
        }
    }
}
