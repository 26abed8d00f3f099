//! The client's failures and the exit code each one ends the process with.

use std::fmt;

/// Documented in `--help` (see `EXIT_CODES`); scripts rely on these numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Something on this machine: the config directory, an output file, a terminal.
    Local = 1,
    /// Bad arguments (clap's own errors use 2 as well) or a missing active org.
    Usage = 2,
    /// Not logged in, the session ended, or the API refused the credentials (401).
    Auth = 3,
    /// 404 from the API, or no member matching the given email.
    NotFound = 4,
    /// Any other refusal by the API (4xx).
    Refused = 5,
    /// The server failed (5xx), could not be reached, timed out, or did not answer as Tenantry does.
    Server = 6,
    /// `audit verify` found a broken link in an audit chain, or `doctor` a fault in the database.
    Tampered = 7,
    /// Logged in, but the API refused for want of a permission or standing (403): logging in
    /// again will not help, unlike `Auth`.
    Forbidden = 8,
}

#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub message: String,
}

pub type Result<T, E = CliError> = std::result::Result<T, E>;

impl CliError {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self { exit, message: message.into() }
    }

    pub fn local(message: impl Into<String>) -> Self {
        Self::new(Exit::Local, message)
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }

    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(Exit::Auth, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Exit::NotFound, message)
    }

    pub fn server(message: impl Into<String>) -> Self {
        Self::new(Exit::Server, message)
    }

    /// An error body of the API (SPEC 10): its code, message and, for invalid requests, the field.
    pub fn api(status: u16, code: &str, message: &str, field: Option<&str>, request_id: Option<&str>) -> Self {
        let exit = match status {
            401 => Exit::Auth,
            403 => Exit::Forbidden,
            404 => Exit::NotFound,
            400..=499 => Exit::Refused,
            _ => Exit::Server,
        };
        let mut text = format!("{code}: {message}");
        if let Some(field) = field {
            text.push_str(&format!(" (field `{field}`)"));
        }
        // Server failures are looked up in the server's log by their request id.
        if let (Exit::Server, Some(id)) = (exit, request_id) {
            text.push_str(&format!(" (request id {id})"));
        }
        Self::new(exit, text)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
