//! Kube errors into ours: the kind (exit code) from the HTTP status or the transport error,
//! the server's own words once, and what to do next.

use crate::error::{Error, ErrorKind};

impl From<kube::Error> for Error {
    fn from(e: kube::Error) -> Self {
        classify(e)
    }
}

/// Turn a kube error into ours, keeping the server's own words once.
pub fn classify(e: kube::Error) -> Error {
    match e {
        kube::Error::Api(status) => {
            let kind = match status.code {
                400 | 422 => ErrorKind::InvalidInput,
                401 => ErrorKind::Unauthorized,
                403 => ErrorKind::Forbidden,
                404 => ErrorKind::NotFound,
                409 => ErrorKind::Conflict,
                408 | 504 => ErrorKind::Timeout,
                _ => ErrorKind::Internal,
            };
            let message = if status.message.is_empty() {
                format!("the API server answered {} {}", status.code, status.reason)
            } else {
                status.message.clone()
            };
            let mut err = Error::new(kind, message);
            if kind == ErrorKind::Unauthorized {
                err = err.with_hint("the credentials in the kubeconfig were refused; log in again or pick another --context");
            }
            err
        }
        other => {
            let text = error_chain(&other);
            let lower = text.to_lowercase();
            let kind = if lower.contains("timed out")
                || lower.contains("timeout")
                || lower.contains("deadline")
            {
                ErrorKind::Timeout
            } else {
                ErrorKind::Unreachable
            };
            if kind == ErrorKind::Timeout {
                return Error::new(
                    kind,
                    format!("the API server did not answer in time: {text}"),
                )
                .with_hint(
                    "check that the cluster is up, or raise --request-timeout if it is slow",
                );
            }
            Error::new(kind, format!("the API server could not be reached: {text}"))
                .with_hint("check that the cluster is up and that --kubeconfig/--context point at it (`kubectl cluster-info`)")
        }
    }
}

/// The distinct messages of an error and its sources, joined once each.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![];
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        // Keep the innermost wording; drop wrappers that only repeat their source.
        if !parts
            .iter()
            .any(|p| p.contains(&s) || s.contains(p.as_str()))
        {
            parts.push(s);
        } else if let Some(last) = parts.last_mut() {
            if s.len() < last.len() && last.contains(&s) {
                // a wrapper that repeats its cause: keep the shorter, inner message
                *last = s;
            }
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// A read refused before anything was written: say that nothing changed, and what to do.
pub fn forbidden_read(e: Error) -> Error {
    if e.kind == ErrorKind::Forbidden {
        Error::new(
            ErrorKind::Forbidden,
            format!("{}; nothing was changed", e.message),
        )
        .with_hint(
            "ask a cluster administrator for these permissions, or use a --context with them",
        )
    } else {
        e
    }
}
