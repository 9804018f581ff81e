//! Walking `POST /admin/catalogue/reindex` over the whole catalogue: what
//! an operator runs after an upgrade changes how search keys are made
//! (docs/operations.md). Each step re-keys the next records in id order and
//! commits; an interrupted walk resumes from `--after`.

use anyhow::{Context, Result};
use indicatif::ProgressBar;

/// What a walk did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Walked {
    /// Records re-keyed.
    pub records: u64,
    /// The last record id done (0 when none).
    pub last: i64,
}

/// Re-keys every record after `after`, `step` records per request.
pub fn reindex(url: &str, token: &str, after: i64, step: u64, progress: bool) -> Result<Walked> {
    let endpoint = url::Url::parse(url)
        .and_then(|base| base.join("/admin/catalogue/reindex"))
        .with_context(|| format!("--url {url:?} is not a URL"))?;
    let bar = super::progress_bar(
        progress.then(ProgressBar::new_spinner),
        "{spinner} {msg} ({elapsed})",
    );
    let agent = super::agent();
    let mut walked = Walked {
        records: 0,
        last: after,
    };
    loop {
        let mut url = endpoint.clone();
        url.query_pairs_mut()
            .append_pair("after", &walked.last.to_string())
            .append_pair("limit", &step.to_string());
        let answer = super::send(&agent, &url, token, b"")
            .with_context(|| format!("reindexing after record {}", walked.last))?;
        walked.records += answer["reindexed"].as_u64().unwrap_or(0);
        if let Some(last) = answer["last_id"].as_i64() {
            walked.last = last;
        }
        if answer["next_after"].is_null() {
            break;
        }
        bar.set_message(format!(
            "{} records re-keyed, up to id {}",
            walked.records, walked.last
        ));
        bar.tick();
    }
    bar.finish();
    Ok(walked)
}
