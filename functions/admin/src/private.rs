//! Forwarding an operator's request to a private component
//! (`*.spin.internal`) and answering what it answered.

use wangjie_shared::problem;
use wangjie_shared::reply::Reply;
use wangjie_shared::spin::outbound::{self, Call};
use wangjie_shared::{Error, Result};

/// Sends an empty `method` request to `url` and passes the answer on.
pub fn forward(method: &str, url: &str, timeout_ms: u64) -> Result<Reply> {
    let answer = outbound::send(&Call {
        method,
        url,
        headers: Vec::new(),
        body: &[],
        timeout_ms,
    })
    .map_err(|reason| Error::Internal(anyhow::anyhow!("{url}: {reason}")))?;
    let problem = answer
        .header("content-type")
        .is_some_and(|t| t.starts_with(problem::CONTENT_TYPE));
    Ok(Reply {
        status: answer.status,
        content_type: if problem {
            problem::CONTENT_TYPE
        } else {
            "application/json"
        },
        headers: Vec::new(),
        body: answer.body,
    })
}
