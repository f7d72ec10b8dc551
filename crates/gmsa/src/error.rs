//! Errors of every operation: a kind (which maps to a CLI exit code and a stable C status
//! code) and one message that says which step failed, the cause once, and what to do next.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What class of failure this is. The numbers are stable: the C ABI returns them and the
/// CLI exits with `exit_code()`. Never renumber or reuse one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(i32)]
pub enum ErrorKind {
    /// Bad input from the user: a file, a name, a flag value, a credential spec with errors.
    InvalidInput = 2,
    /// Something the operation needs does not exist (a CRD, a credential spec, an account).
    NotFound = 3,
    /// An object exists and differs, or another field manager owns a field we set.
    Conflict = 4,
    /// The identity in use may not do what the operation needs.
    Forbidden = 5,
    /// The server could not be reached, or the connection failed (TLS included).
    Unreachable = 6,
    /// The server did not answer in time, or a wait ran out.
    Timeout = 7,
    /// The kubeconfig (or directory connection settings) cannot be used.
    Config = 8,
    /// Authentication failed (a wrong password, an expired token or ticket).
    Unauthorized = 9,
    /// The cluster or directory is reachable but not healthy (used by `status`).
    Unhealthy = 10,
    /// Anything else: a bug or an unexpected answer.
    Internal = 1,
}

impl ErrorKind {
    /// The process exit code for this kind (the CLI uses it directly).
    pub fn exit_code(self) -> i32 {
        self as i32
    }
}

/// An operation's error. `message` is complete: it never needs its source appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// What the user can do about it, when we know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Prefix the message with the step that failed: "failed to <step>: <message>".
    pub fn context(mut self, step: impl fmt::Display) -> Self {
        self.message = format!("failed to {step}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Attach "failed to <step>" to any result whose error converts into ours.
pub trait Context<T> {
    fn step(self, step: impl fmt::Display) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn step(self, step: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.into().context(step))
    }
}
