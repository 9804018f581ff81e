//! `wangjie-import` as a library: cutting a catalogue file into batches
//! ([`split`]) and sending them to `POST /admin/catalogue/import`
//! ([`import_file`]), and walking `POST /admin/catalogue/reindex` over the
//! whole catalogue ([`reindex`]). The binary adds the command line and the
//! summary; the end-to-end tests drive the same code against a running app.

pub mod reindex;
pub mod split;

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use split::Batch;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::time::Duration;

/// The formats the server reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// CSV with a header row.
    Csv,
    /// MARC ISO 2709.
    Marc,
    /// MARCXML.
    Marcxml,
}

impl Format {
    /// The format a file's extension suggests.
    pub fn guess(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "mrc" | "marc" | "iso" | "iso2709" => Some(Format::Marc),
            "xml" | "marcxml" => Some(Format::Marcxml),
            _ => None,
        }
    }

    /// The name the server's `format` parameter takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Marc => "marc",
            Format::Marcxml => "marcxml",
        }
    }
}

/// What the whole import did: the batches' answers added up.
#[derive(Debug, Default)]
pub struct Totals {
    /// Counts, in the order of [`COUNTS`].
    pub counts: [u64; 7],
    /// The first rejections, as the server reported them.
    pub rejections: Vec<Value>,
    /// Entries sent: MARC records, or CSV rows (one per copy, so a
    /// record with two copies is two rows).
    pub records: u64,
}

/// The summary counts the server answers with.
pub const COUNTS: [&str; 7] = [
    "imported",
    "updated",
    "unchanged",
    "rejected",
    "copies_imported",
    "copies_updated",
    "copies_unchanged",
];

impl Totals {
    fn add(&mut self, answer: &Value, keep: usize) {
        for (total, name) in self.counts.iter_mut().zip(COUNTS) {
            *total += answer[name].as_u64().unwrap_or(0);
        }
        if let Some(rejections) = answer["rejections"].as_array() {
            let room = keep.saturating_sub(self.rejections.len());
            self.rejections
                .extend(rejections.iter().take(room).cloned());
        }
    }
}

/// Where and how to import a file.
#[derive(Debug, Clone)]
pub struct Options {
    /// Base URL of the app.
    pub url: String,
    /// The operator's bearer token.
    pub token: String,
    /// The file's format.
    pub format: Format,
    /// Records per request.
    pub batch_size: u64,
    /// Rejections to keep for the summary.
    pub keep_rejections: usize,
    /// Whether to draw a progress bar on the terminal.
    pub progress: bool,
}

/// Sends the whole file, batch after batch, and adds up the answers.
pub fn import_file(path: &Path, options: &Options) -> Result<Totals> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    let input = BufReader::with_capacity(1 << 20, file);
    let size = options.batch_size.max(1);
    let batches: Box<dyn Iterator<Item = Result<Batch>>> = match options.format {
        Format::Csv => Box::new(split::csv_batches(input, size)),
        Format::Marc => Box::new(split::marc_batches(input, size)),
        Format::Marcxml => Box::new(split::marcxml_batches(input, size)),
    };
    let endpoint = url::Url::parse(&options.url)
        .and_then(|base| base.join("/admin/catalogue/import"))
        .with_context(|| format!("--url {:?} is not a URL", options.url))?;
    let bar = progress_bar(
        options.progress.then(|| ProgressBar::new(length)),
        "{bar:40} {bytes}/{total_bytes} {msg} ({eta} left)",
    );
    let agent = agent();
    let mut totals = Totals::default();
    for batch in batches {
        let batch = batch?;
        let answer = post(&agent, &endpoint, &options.token, options.format, &batch)
            .with_context(|| format!("batch starting at record {}", batch.record_offset + 1))?;
        totals.add(&answer, options.keep_rejections);
        totals.records += batch.records;
        bar.set_position(batch.file_position);
        bar.set_message(format!(
            "{} records, {} rejected",
            totals.records, totals.counts[3]
        ));
    }
    bar.finish();
    Ok(totals)
}

/// The bar, styled by `template`, or a hidden one.
fn progress_bar(bar: Option<ProgressBar>, template: &str) -> ProgressBar {
    let Some(bar) = bar else {
        return ProgressBar::hidden();
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// An HTTP client that waits long enough for a big batch.
fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(300))
        .build()
}

/// Sends one batch.
fn post(
    agent: &ureq::Agent,
    endpoint: &url::Url,
    token: &str,
    format: Format,
    batch: &Batch,
) -> Result<Value> {
    let mut url = endpoint.clone();
    url.query_pairs_mut()
        .append_pair("format", format.name())
        .append_pair("record_offset", &batch.record_offset.to_string())
        .append_pair("line_offset", &batch.line_offset.to_string())
        .append_pair("byte_offset", &batch.byte_offset.to_string());
    send(agent, &url, token, &batch.body)
}

/// POSTs `body` and reads the JSON answer; retries a few times when the
/// server says it may work later (503) or cannot be reached, since a long
/// walk should not die of a passing hiccup. Re-sending is safe: import and
/// reindex are idempotent.
fn send(agent: &ureq::Agent, url: &url::Url, token: &str, body: &[u8]) -> Result<Value> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let sent = agent
            .post(url.as_str())
            .set("authorization", &format!("Bearer {token}"))
            .set("content-type", "application/octet-stream")
            .send_bytes(body);
        match sent {
            Ok(response) => return Ok(serde_json::from_str(&response.into_string()?)?),
            Err(ureq::Error::Status(status, response)) => {
                let body = response.into_string().unwrap_or_default();
                let problem: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                if problem["retryable"] == true && attempt < 4 {
                    std::thread::sleep(Duration::from_secs(attempt));
                    continue;
                }
                let detail = problem["detail"].as_str().unwrap_or(&body);
                bail!("the server answered {status}: {detail}");
            }
            Err(error) if attempt < 4 => {
                eprintln!("retrying after: {error}");
                std::thread::sleep(Duration::from_secs(attempt));
            }
            Err(error) => return Err(error.into()),
        }
    }
}
