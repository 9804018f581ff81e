//! The one error type of the domain. Every component converts it to HTTP in
//! exactly one place ([`crate::problem`]); nothing else picks status codes.

/// The result of anything in the domain that can fail.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in words a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Occurs when a request names something that does not exist, or that
    /// the caller may not know exists. 404.
    #[error("{what} not found")]
    NotFound {
        /// The kind of thing that was looked for ("route", "service point").
        what: &'static str,
    },
    /// Occurs when a field of a request cannot be parsed or breaks a rule
    /// that does not depend on stored state. 400.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field, parameter or header at fault.
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// Occurs when a request body is larger than the component accepts. 413.
    #[error("request body larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Occurs when a request has a body whose `Content-Type` is missing or
    /// not one the endpoint reads (a JSON endpoint sent `text/plain`). 415.
    #[error("unsupported content type {declared:?}: this endpoint reads {expected}")]
    UnsupportedMediaType {
        /// The `Content-Type` sent, `""` when none.
        declared: String,
        /// What the endpoint reads (`application/json`).
        expected: &'static str,
    },
    /// Occurs when a route exists but not for this method. 405.
    #[error("method {method} not allowed here")]
    MethodNotAllowed {
        /// The method that was used.
        method: String,
        /// The methods the route accepts, for the `Allow` header.
        allowed: String,
    },
    /// Occurs when a request lacks valid credentials. 401.
    #[error("authentication required")]
    Unauthenticated,
    /// Occurs when the caller is known but may not do this. 403.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// Occurs when a reader who owes compensation for a lost or damaged
    /// book asks to borrow (an order, a hold): they pay first. 403.
    #[error(
        "{amount_yuan} yuan of compensation is unpaid: pay it first (GET /api/me/compensations)"
    )]
    CompensationUnpaid {
        /// What is owed, in yuan ("70.00").
        amount_yuan: String,
    },
    /// Occurs when one subject (a client address, a reader, a staff
    /// number) has used up its attempts at a costly action (sign-in, a
    /// credit check) in the current window ([`crate::rate`]). 429, with
    /// `Retry-After`; retryable once the window is over.
    #[error("too many attempts: try again in {retry_after_s} s")]
    TooManyRequests {
        /// Whole seconds until the window ends.
        retry_after_s: u64,
    },
    /// Occurs when a request is well formed but clashes with what is stored:
    /// an identity already tied to another reader, a transition the current
    /// state does not allow, a resource already taken. 409.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Occurs when the database cannot be reached or refuses to work
    /// (connection refused, pool exhausted). 503, retryable.
    #[error("database unavailable")]
    DatabaseUnavailable(#[source] anyhow::Error),
    /// Occurs when the key-value store cannot be reached. 503, retryable.
    #[error("key-value store unavailable")]
    KeyValueUnavailable(#[source] anyhow::Error),
    /// Occurs when the database schema is older than this code expects;
    /// an operator must apply the migrations. 503.
    #[error("database schema not migrated")]
    SchemaNotMigrated,
    /// Occurs when a configuration variable is missing or malformed. 500,
    /// and an operator must fix the deployment.
    #[error("configuration variable {name}: {reason}")]
    Config {
        /// The Spin variable at fault.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Occurs when a credit provider cannot give a usable answer: it is
    /// down, slow, answers garbage or answers with a bad signature. 503,
    /// retryable. Never a grant: the reader's standing is left as it was.
    #[error("credit provider {provider} unavailable: {reason}")]
    CreditUnavailable {
        /// The provider asked ("sesame", "osmanthus").
        provider: &'static str,
        /// What went wrong, in words safe to show the reader.
        reason: String,
    },
    /// Occurs when a sign-in provider (Alipay's gateway, WeChat) cannot
    /// give a usable answer: down, slow, garbage, bad signature. 503,
    /// retryable; nobody is signed in.
    #[error("provider {provider} unavailable: {reason}")]
    ProviderUnavailable {
        /// The provider asked ("alipay", "wechat").
        provider: &'static str,
        /// What went wrong, in words safe to show the reader.
        reason: String,
    },
    /// Occurs when a signed message (an Alipay notification or gateway
    /// answer) does not verify against the key we hold for its sender. 401.
    #[error("bad signature on {what}")]
    BadSignature {
        /// What was signed ("alipay notification").
        what: &'static str,
    },
    /// Anything else: a bug or an unexpected answer from a dependency. 500,
    /// marked retryable since most such failures are passing; the cause is
    /// logged and never shown to the caller.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// A provider's failure: [`Error::CreditUnavailable`] for the credit
    /// sources (`sesame`, `osmanthus`), [`Error::ProviderUnavailable`] for
    /// the rest, so a failed sign-in is not reported as a credit problem.
    pub fn provider_unavailable(provider: &'static str, reason: String) -> Self {
        match provider {
            "sesame" | "osmanthus" => Error::CreditUnavailable { provider, reason },
            _ => Error::ProviderUnavailable { provider, reason },
        }
    }

    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
