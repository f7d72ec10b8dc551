//! The machinery behind every export: the panic boundary, reading the request, writing the
//! outcome or error JSON into a library-owned buffer, and forwarding progress to a C
//! callback.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Mutex;

use gmsa::ops::ObjectOutcome;
use gmsa::progress::Reporter;
use gmsa::{Error, ErrorKind};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

use crate::{GmsaContext, GmsaProgressFn, GmsaStatus, GMSA_MAX_REQUEST_LEN};

/// Run `f`, turning a panic into `None` (the panic hook has already reported it).
pub(crate) fn boundary<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

/// The status of a core error kind. Exhaustive on purpose: a new `ErrorKind` must get its
/// status here (with the same number) before the library builds.
pub(crate) fn status_of(kind: ErrorKind) -> GmsaStatus {
    match kind {
        ErrorKind::Internal => GmsaStatus::Internal,
        ErrorKind::InvalidInput => GmsaStatus::InvalidInput,
        ErrorKind::NotFound => GmsaStatus::NotFound,
        ErrorKind::Conflict => GmsaStatus::Conflict,
        ErrorKind::Forbidden => GmsaStatus::Forbidden,
        ErrorKind::Unreachable => GmsaStatus::Unreachable,
        ErrorKind::Timeout => GmsaStatus::Timeout,
        ErrorKind::Config => GmsaStatus::Config,
        ErrorKind::Unauthorized => GmsaStatus::Unauthorized,
        ErrorKind::Unhealthy => GmsaStatus::Unhealthy,
    }
}

/// The name of an ABI status in error JSON (`kind`): the core's names for its kinds.
fn kind_name(status: GmsaStatus) -> &'static str {
    match status {
        GmsaStatus::Ok => "ok",
        GmsaStatus::Internal => "internal",
        GmsaStatus::InvalidInput => "invalid_input",
        GmsaStatus::NotFound => "not_found",
        GmsaStatus::Conflict => "conflict",
        GmsaStatus::Forbidden => "forbidden",
        GmsaStatus::Unreachable => "unreachable",
        GmsaStatus::Timeout => "timeout",
        GmsaStatus::Config => "config",
        GmsaStatus::Unauthorized => "unauthorized",
        GmsaStatus::Unhealthy => "unhealthy",
        GmsaStatus::NullPointer => "null_pointer",
        GmsaStatus::InvalidUtf8 => "invalid_utf8",
        GmsaStatus::InvalidJson => "invalid_json",
        GmsaStatus::Panic => "panic",
        GmsaStatus::RequestTooLarge => "request_too_large",
        GmsaStatus::Cancelled => "cancelled",
    }
}

/// The message of a cancelled call (recognised by `run_json` to give `GMSA_STATUS_CANCELLED`).
const CANCELLED: &str = "the operation was cancelled";

/// The error `GmsaContext::block_on` returns when `gmsa_cancel` stops a call.
pub(crate) fn cancelled() -> Error {
    Error::new(ErrorKind::Internal, CANCELLED)
        .with_hint("objects written before the stop stay; run the operation again to complete it")
}

/// A failure of one call: its status and the message and hint the caller gets.
#[derive(Debug)]
pub(crate) struct CallError {
    status: GmsaStatus,
    message: String,
    hint: Option<String>,
}

impl CallError {
    fn new(status: GmsaStatus, message: impl Into<String>) -> Self {
        CallError {
            status,
            message: message.into(),
            hint: None,
        }
    }

    fn hint(mut self, hint: &str) -> Self {
        self.hint = Some(hint.into());
        self
    }

    fn to_json(&self) -> Vec<u8> {
        let mut v = json!({ "status": self.status as i32, "kind": kind_name(self.status), "message": self.message });
        if let Some(h) = &self.hint {
            v["hint"] = json!(h);
        }
        serde_json::to_vec(&v).unwrap_or_else(|_| b"{}".to_vec())
    }
}

impl From<Error> for CallError {
    fn from(e: Error) -> Self {
        let cancelled = e.kind == ErrorKind::Internal && e.message == CANCELLED;
        CallError {
            status: if cancelled {
                GmsaStatus::Cancelled
            } else {
                status_of(e.kind)
            },
            message: e.message,
            hint: e.hint,
        }
    }
}

/// Describe a JSON decoding error without quoting values from the request (a mistyped
/// password must not come back in a message).
fn json_error(e: &serde_json::Error) -> CallError {
    use serde_json::error::Category;
    let at = format!("at line {} column {}", e.line(), e.column());
    let message = match e.classify() {
        Category::Eof => format!("the request is not complete JSON: it ends {at}"),
        Category::Syntax => format!("the request is not valid JSON: {e}"),
        Category::Data => {
            let text = e.to_string();
            if text.starts_with("invalid type")
                || text.starts_with("invalid value")
                || text.starts_with("invalid length")
            {
                let expected = text
                    .split(", expected ")
                    .nth(1)
                    .map(|s| s.split(" at line").next().unwrap_or(s));
                match expected {
                    Some(x) => format!(
                        "the request does not fit this operation: a value {at} should be {x}"
                    ),
                    None => format!(
                        "the request does not fit this operation: a value {at} has the wrong type"
                    ),
                }
            } else if let Some(rest) = text.strip_prefix("unknown variant ") {
                // "unknown variant `<the value>`, expected one of ...": never the value.
                let expected = rest
                    .split_once(", expected ")
                    .map(|(_, x)| x.split(" at line").next().unwrap_or(x));
                match expected {
                    Some(x) => format!(
                        "the request does not fit this operation: a value {at} should be {x}"
                    ),
                    None => format!(
                        "the request does not fit this operation: a value {at} is not one this field takes"
                    ),
                }
            } else {
                format!("the request does not fit this operation: {text}")
            }
        }
        Category::Io => format!("the request could not be read: {e}"),
    };
    CallError::new(GmsaStatus::InvalidJson, message)
        .hint("the request is the operation's request type as JSON; see the README of the C ABI")
}

/// The message of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Move bytes into a library-owned buffer (with a NUL after them) and return it with the
/// length of the bytes.
pub(crate) fn into_buffer(mut bytes: Vec<u8>) -> (*mut u8, usize) {
    let len = bytes.len();
    bytes.push(0);
    let boxed: Box<[u8]> = bytes.into_boxed_slice();
    (Box::into_raw(boxed).cast::<u8>(), len)
}

/// Release a buffer from `into_buffer`.
///
/// # Safety
///
/// `ptr` is NULL or came from `into_buffer` together with `len`, and was not freed before.
pub(crate) unsafe fn free_buffer(ptr: *mut u8, len: usize) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: `into_buffer` allocated a boxed slice of `len + 1` bytes at `ptr`; the caller
    // guarantees it is still live and passes the same `len`.
    drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(ptr, len + 1)) });
}

/// Run one operation export: check pointers, read and decode the request, call `op` inside
/// the panic boundary, and write the outcome (or error) JSON to `*out` / `*out_len`.
///
/// This is the whole body of every operation export; adding an operation is one call of it.
///
/// # Safety
///
/// - `ctx` is NULL or a live context from `gmsa_context_new`;
/// - `request` is NULL or valid for reading `request_len` bytes for the whole call;
/// - `out` and `out_len` are NULL or valid for writing one value each.
pub unsafe fn run_json<Req, Out>(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
    op: impl FnOnce(&GmsaContext, &Req) -> gmsa::Result<Out>,
) -> GmsaStatus
where
    Req: DeserializeOwned,
    Out: Serialize,
{
    if out.is_null() || out_len.is_null() {
        return GmsaStatus::NullPointer;
    }
    // SAFETY: both are non-NULL and the caller guarantees they are writable.
    unsafe {
        out.write(ptr::null_mut());
        out_len.write(0);
    }
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<Vec<u8>, CallError> {
        // SAFETY: the caller passes NULL or a live context.
        let ctx = unsafe { ctx.as_ref() }.ok_or_else(|| {
            CallError::new(GmsaStatus::NullPointer, "the context is NULL")
                .hint("create one with gmsa_context_new")
        })?;
        if request.is_null() {
            return Err(CallError::new(
                GmsaStatus::NullPointer,
                "the request is NULL",
            ));
        }
        if request_len > GMSA_MAX_REQUEST_LEN {
            return Err(CallError::new(
                GmsaStatus::RequestTooLarge,
                format!("the request is {request_len} bytes; at most {GMSA_MAX_REQUEST_LEN} are accepted"),
            ));
        }
        // SAFETY: `request` is not NULL, the caller guarantees `request_len` readable bytes,
        // and the length is bounded far below `isize::MAX`.
        let bytes = unsafe { std::slice::from_raw_parts(request, request_len) };
        let text = std::str::from_utf8(bytes).map_err(|e| {
            CallError::new(
                GmsaStatus::InvalidUtf8,
                format!(
                    "the request is not UTF-8: invalid byte at offset {}",
                    e.valid_up_to()
                ),
            )
        })?;
        let req: Req = serde_json::from_str(text).map_err(|e| json_error(&e))?;
        let outcome = op(ctx, &req)?;
        serde_json::to_vec(&outcome).map_err(|e| {
            CallError::new(
                GmsaStatus::Internal,
                format!("failed to encode the outcome as JSON: {e}"),
            )
        })
    }));
    let (status, bytes) = match result {
        Ok(Ok(bytes)) => (GmsaStatus::Ok, bytes),
        Ok(Err(e)) => (e.status, e.to_json()),
        Err(payload) => {
            let e = CallError::new(
                GmsaStatus::Panic,
                format!("the library panicked (a bug): {}", panic_message(&*payload)),
            )
            .hint("please report it with the request that caused it (without secrets)");
            // Dropping a payload can itself panic; never let that escape.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            (GmsaStatus::Panic, e.to_json())
        }
    };
    let (ptr, len) = into_buffer(bytes);
    // SAFETY: checked non-NULL and writable above.
    unsafe {
        out.write(ptr);
        out_len.write(len);
    }
    status
}

/// The C callback and its user data, as set on a context.
#[derive(Clone, Copy)]
struct Callback {
    f: unsafe extern "C" fn(*mut c_void, *const u8, usize),
    user_data: *mut c_void,
}

// SAFETY: `gmsa_context_set_progress` requires the callback to be callable with its user
// data from any thread that calls an operation; the pointer is only handed back to it.
unsafe impl Send for Callback {}
// SAFETY: as above; the callback is only read (copied) through a shared reference.
unsafe impl Sync for Callback {}

/// A `Reporter` that sends each event as JSON to the context's C callback, if any.
#[derive(Default)]
pub(crate) struct CallbackReporter {
    callback: Mutex<Option<Callback>>,
}

impl CallbackReporter {
    pub(crate) fn set(&self, f: GmsaProgressFn, user_data: *mut c_void) {
        let mut slot = self.callback.lock().unwrap_or_else(|p| p.into_inner());
        *slot = f.map(|f| Callback { f, user_data });
    }

    fn send(&self, event: serde_json::Value) {
        let cb = *self.callback.lock().unwrap_or_else(|p| p.into_inner());
        let Some(cb) = cb else { return };
        let mut bytes = serde_json::to_vec(&event).unwrap_or_default();
        let len = bytes.len();
        bytes.push(0);
        // SAFETY: the caller of `gmsa_context_set_progress` guaranteed the callback may be
        // called with this user data on this thread; the event bytes outlive the call.
        unsafe { (cb.f)(cb.user_data, bytes.as_ptr(), len) };
    }
}

impl Reporter for CallbackReporter {
    fn step(&self, message: &str) {
        self.send(json!({ "event": "step", "message": message }));
    }

    fn object(&self, o: &ObjectOutcome) {
        let mut v =
            json!({ "event": "object", "kind": o.kind, "name": o.name, "action": o.action });
        if let Some(ns) = &o.namespace {
            v["namespace"] = json!(ns);
        }
        self.send(v);
    }

    fn waiting(&self, message: &str, done: u64, total: u64) {
        self.send(json!({ "event": "waiting", "message": message, "done": done, "total": total }));
    }
}

#[cfg(test)]
mod tests {
    //! The panic boundary cannot be reached from outside with real input (the core does not
    //! panic on any request we know of), so it is tested here through `run_json` itself.
    use super::*;

    fn call(
        op: impl FnOnce(&GmsaContext, &serde_json::Value) -> gmsa::Result<serde_json::Value>,
    ) -> (GmsaStatus, serde_json::Value) {
        let ctx = GmsaContext::new().unwrap();
        let req = b"{}";
        let mut out: *mut u8 = ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: all pointers are valid locals.
        let status = unsafe { run_json(&ctx, req.as_ptr(), req.len(), &mut out, &mut len, op) };
        // SAFETY: the buffer was just written by `run_json` with this length.
        let body = unsafe { std::slice::from_raw_parts(out, len) }.to_vec();
        // SAFETY: freed once, with its length.
        unsafe { free_buffer(out, len) };
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[test]
    fn a_panic_becomes_a_status_with_its_message() {
        let (status, body) = call(|_, _| panic!("provoked for the test"));
        assert_eq!(status, GmsaStatus::Panic);
        assert_eq!(body["status"], 103);
        assert_eq!(body["kind"], "panic");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("provoked for the test"),
            "{body}"
        );
    }

    #[test]
    fn a_core_error_keeps_kind_message_and_hint() {
        let (status, body) =
            call(|_, _| Err(Error::new(ErrorKind::Conflict, "failed to x: y").with_hint("do z")));
        assert_eq!(status, GmsaStatus::Conflict);
        assert_eq!(
            body,
            json!({"status": 4, "kind": "conflict", "message": "failed to x: y", "hint": "do z"})
        );
    }

    #[test]
    fn status_numbers_match_the_core_kinds() {
        for kind in [
            ErrorKind::Internal,
            ErrorKind::InvalidInput,
            ErrorKind::NotFound,
            ErrorKind::Conflict,
            ErrorKind::Forbidden,
            ErrorKind::Unreachable,
            ErrorKind::Timeout,
            ErrorKind::Config,
            ErrorKind::Unauthorized,
            ErrorKind::Unhealthy,
        ] {
            assert_eq!(status_of(kind) as i32, kind as i32);
            assert_eq!(json!(kind), json!(kind_name(status_of(kind))));
        }
    }

    #[test]
    fn json_errors_never_quote_request_values() {
        let e = serde_json::from_str::<gmsa::ops::CreateSecretRequest>(r#"{"password": 12345678}"#)
            .unwrap_err();
        let c = json_error(&e);
        assert_eq!(c.status, GmsaStatus::InvalidJson);
        assert!(!c.message.contains("12345678"), "{}", c.message);
        assert!(c.message.contains("a string"), "{}", c.message);
    }

    /// Regression: a password pasted into a field that takes one of a few words came back
    /// in "unknown variant `<password>`".
    #[test]
    fn an_unknown_variant_is_not_quoted() {
        let e = serde_json::from_str::<gmsa::ops::CreateSecretRequest>(
            r#"{"password": "x", "dry_run": "S3cret-Pasted-Here"}"#,
        )
        .unwrap_err();
        let c = json_error(&e);
        assert_eq!(c.status, GmsaStatus::InvalidJson);
        assert!(!c.message.contains("S3cret"), "{}", c.message);
        assert!(c.message.contains("`client`"), "{}", c.message);
    }

    /// The same regression for the requests of the webhook and directory exports: a secret
    /// pasted into an enum, boolean, number or list field never comes back in the message.
    #[test]
    fn new_requests_never_quote_a_misplaced_secret() {
        const SECRET: &str = "S3cret-Pasted-Here";
        fn check<T: DeserializeOwned>(what: &str, doc: &str) {
            let doc = doc.replace("SECRET", SECRET);
            let e = match serde_json::from_str::<T>(&doc) {
                Ok(_) => panic!("{what}: {doc} was accepted"),
                Err(e) => e,
            };
            let c = json_error(&e);
            assert_eq!(c.status, GmsaStatus::InvalidJson, "{what}");
            let body = String::from_utf8(c.to_json()).unwrap();
            assert!(!body.contains(SECRET), "{what}: {body}");
            assert!(!body.contains("S3cret"), "{what}: {body}");
        }
        use gmsa::ops::*;
        check::<InstallWebhookRequest>("failure_policy", r#"{"failure_policy": "SECRET"}"#);
        check::<InstallWebhookRequest>("install dry_run", r#"{"dry_run": "SECRET"}"#);
        check::<InstallWebhookRequest>("replicas", r#"{"replicas": "SECRET"}"#);
        check::<InstallWebhookRequest>("node_selector", r#"{"node_selector": "SECRET"}"#);
        check::<UninstallWebhookRequest>("uninstall dry_run", r#"{"dry_run": "SECRET"}"#);
        check::<UninstallWebhookRequest>("purge", r#"{"purge": "SECRET"}"#);
        check::<StatusRequest>("status target", r#"{"target": "SECRET"}"#);
        check::<RotateCertsRequest>("new_ca", r#"{"new_ca": "SECRET"}"#);
        check::<NewCredspecRequest>(
            "ccg_plugin",
            r#"{"account": "a", "plugin": {"ccg_plugin": "SECRET"}}"#,
        );
        check::<NewCredspecRequest>(
            "directory as a string",
            r#"{"directory": "SECRET", "account": "a"}"#,
        );
        check::<CheckAccountRequest>(
            "timeout_secs",
            r#"{"directory": {"password": "SECRET", "timeout_secs": "SECRET"}, "account": "a"}"#,
        );
        check::<CheckAccountRequest>(
            "password as a number",
            r#"{"directory": {"user": "u", "password": 5}, "account": "SECRET", "x": }"#,
        );
        check::<CreateAccountRequest>("create dry_run", r#"{"dry_run": "SECRET"}"#);
        check::<CreateAccountRequest>(
            "allowed_principals",
            r#"{"directory": {"password": "SECRET"}, "allowed_principals": "SECRET"}"#,
        );
    }

    /// A directory request keeps the bind password for the call but never shows it: not in
    /// `Debug`, not when serialized again.
    #[test]
    fn a_directory_request_never_shows_its_password() {
        let req: gmsa::ops::CreateAccountRequest = serde_json::from_str(
            r#"{"directory": {"server": "ldaps://127.0.0.1", "user": "admin@example.test", "password": "S3cret-Bind"}, "account": "web01"}"#,
        )
        .unwrap();
        assert_eq!(req.directory.password.as_deref(), Some("S3cret-Bind"));
        assert!(!format!("{req:?}").contains("S3cret"), "{req:?}");
        assert!(!serde_json::to_string(&req).unwrap().contains("S3cret"));
    }
}
