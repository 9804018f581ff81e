//! How a backend's failure becomes a domain [`Error`]: once, here, for both
//! backends, so a missing table or an unreachable server means the same
//! thing whichever database is behind the seam.

use crate::Error;

/// tokio-postgres error kinds of a lost or unmade connection, as their
/// `Debug` text shows them (`Error { kind: Closed, cause: None }`).
const LOST_CONNECTION: [&str; 4] = ["kind: Closed", "kind: Io", "kind: Connect", "kind: Timeout"];

/// A PostgreSQL server error, by SQLSTATE.
pub fn from_postgres(sqlstate: &str, message: &str) -> Error {
    if is_nul_in_text(sqlstate, message) {
        return nul_in_text();
    }
    match sqlstate {
        // 42P01 undefined_table: the schema is older than this code.
        "42P01" => Error::SchemaNotMigrated,
        // No SQLSTATE: the client failed, not the statement. Spin passes
        // tokio-postgres's error as its `Debug` text; these kinds mean the
        // connection went away (the server stopped or restarted under a
        // pooled connection) or never came, so a fresh one may work.
        "" if LOST_CONNECTION.iter().any(|kind| message.contains(kind)) => {
            Error::DatabaseUnavailable(anyhow::anyhow!("{message}"))
        }
        // 08 connection exception, 53 insufficient resources, 57P0x
        // shutting down: the same request may work in a moment.
        code if code.starts_with("08") || code.starts_with("53") || code.starts_with("57P0") => {
            Error::DatabaseUnavailable(anyhow::anyhow!("{code}: {message}"))
        }
        code => Error::Internal(anyhow::anyhow!("postgres {code}: {message}")),
    }
}

/// Whether PostgreSQL refused text holding a NUL character: SQLSTATE
/// 22021 `character_not_in_repertoire` ("invalid byte sequence for
/// encoding \"UTF8\": 0x00"), however the host reports it.
pub fn is_nul_in_text(sqlstate: &str, message: &str) -> bool {
    sqlstate == "22021"
        || (message.contains("invalid byte sequence") && message.contains("0x00"))
        || message.contains("22021")
}

/// Bad input, not a passing failure: the request must change. Requests
/// are checked for NUL before they reach a handler
/// ([`crate::request::Request::refuse_nul`]); this is the safety net for
/// text that arrives some other way.
pub fn nul_in_text() -> Error {
    Error::invalid(
        "text",
        "holds a NUL character (U+0000), which cannot be stored",
    )
}

/// A failure to reach PostgreSQL at all.
pub fn connection_failed(message: &str) -> Error {
    Error::DatabaseUnavailable(anyhow::anyhow!("{message}"))
}

/// A SQLite error, which the Spin interface gives only as text.
pub fn from_sqlite(message: &str) -> Error {
    if message.contains("no such table") {
        Error::SchemaNotMigrated
    } else if message.contains("database is locked") || message.contains("unable to open") {
        Error::DatabaseUnavailable(anyhow::anyhow!("{message}"))
    } else {
        Error::Internal(anyhow::anyhow!("sqlite: {message}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_table_means_the_schema_is_not_migrated_on_both_backends() {
        assert!(matches!(
            from_postgres("42P01", "relation \"x\" does not exist"),
            Error::SchemaNotMigrated
        ));
        assert!(matches!(
            from_sqlite("no such table: x"),
            Error::SchemaNotMigrated
        ));
    }

    #[test]
    fn a_connection_lost_under_a_statement_is_retryable_not_internal() {
        // As Spin 4.0.2 and the local host word it when PostgreSQL stops
        // under a pooled connection (bench/faults.sh found these as 500s).
        for text in [
            "Error { kind: Closed, cause: None }",
            "Error { kind: Io, cause: Some(Os { code: 104, kind: ConnectionReset, message: \"Connection reset by peer\" }) }",
        ] {
            assert!(
                matches!(from_postgres("", text), Error::DatabaseUnavailable(_)),
                "{text}"
            );
        }
        assert!(matches!(
            from_postgres("", "query result exceeds limit of 1000 bytes"),
            Error::Internal(_)
        ));
    }

    #[test]
    fn a_nul_in_text_is_bad_input_not_a_retryable_failure() {
        for (code, message) in [
            ("22021", "invalid byte sequence for encoding \"UTF8\": 0x00"),
            (
                "",
                "db error: ERROR: invalid byte sequence for encoding \"UTF8\": 0x00",
            ),
        ] {
            assert!(
                matches!(from_postgres(code, message), Error::Invalid { .. }),
                "{code} {message}"
            );
        }
    }

    #[test]
    fn a_server_shutting_down_is_retryable() {
        assert!(matches!(
            from_postgres("57P01", "terminating"),
            Error::DatabaseUnavailable(_)
        ));
        assert!(matches!(
            from_postgres("23505", "duplicate"),
            Error::Internal(_)
        ));
    }
}
