//! The C ABI of kubectl-gmsa: the same operations as the CLI, for C, PowerShell and any
//! language with a foreign-function interface.
//!
//! # Calling convention
//!
//! Every operation export has the same shape:
//!
//! ```c
//! GmsaStatus gmsa_<operation>(const GmsaContext *ctx,
//!                             const uint8_t *request, size_t request_len,
//!                             uint8_t **out, size_t *out_len);
//! ```
//!
//! - `ctx` comes from [`gmsa_context_new`] and stays valid until [`gmsa_context_free`].
//! - `request` points to `request_len` bytes of UTF-8 JSON: the operation's request type
//!   of the core library (`gmsa::ops::*Request`, the same fields the CLI fills). No NUL
//!   terminator is needed; at most [`GMSA_MAX_REQUEST_LEN`] bytes are accepted.
//! - `out` and `out_len` must not be NULL. They are written on **every** call that gets
//!   past that check: on success (`GMSA_STATUS_OK`) with the outcome JSON, on failure
//!   with an error JSON `{"status": <n>, "kind": "<name>", "message": "...", "hint": "..."}`
//!   whose `message` and `hint` read exactly as the CLI prints them after `error:` and
//!   `hint:`. If `out` or `out_len` is NULL the call returns `GMSA_STATUS_NULL_POINTER`
//!   and writes nothing.
//! - The buffer written to `*out` belongs to the library: read `*out_len` bytes (a NUL
//!   byte follows them, not counted), then release it with exactly one call of
//!   [`gmsa_buffer_free`]`(*out, *out_len)`.
//! - The return value is a [`GmsaStatus`]: `0` is success, `1..=99` are the error kinds of
//!   the core (the same numbers as the CLI's exit codes), `100` and above are errors of
//!   the ABI itself. Numbers are never renumbered or reused.
//! - No Rust panic crosses the boundary: a panic becomes `GMSA_STATUS_PANIC` with the
//!   panic's message in the error JSON.
//! - Work runs on the calling thread (the context's runtime is driven by the call), and so
//!   does the progress callback ([`gmsa_context_set_progress`]).
//!
//! Adding an operation is one function: a `#[no_mangle] extern "C"` wrapper around
//! [`run_json`] naming the request type and the core function, then regenerating the
//! header (`scripts/gen-header.sh`) and adding its cmdlet.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod support;

use std::ffi::{c_char, c_void};
use std::ptr;

use gmsa::ops;

pub use support::run_json;

/// The version of this ABI. It changes whenever an existing export's signature or meaning
/// changes; a caller built for another version must refuse the library. Adding an export
/// (as the webhook and directory operations were added) keeps the version: every caller of
/// version 1 keeps working, and the PowerShell module ships with its own library.
pub const GMSA_ABI_VERSION: u32 = 1;

/// Requests longer than this (16 MiB) are refused with `GMSA_STATUS_REQUEST_TOO_LARGE`.
pub const GMSA_MAX_REQUEST_LEN: usize = 16 * 1024 * 1024;

/// The result of every call. `1..=99` are the core's error kinds (the CLI's exit codes);
/// `100` and above belong to the ABI. Numbers are assigned once and never reused.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GmsaStatus {
    /// Success; `*out` holds the outcome JSON.
    Ok = 0,
    /// A bug or an unexpected answer.
    Internal = 1,
    /// Bad input: a file, a name, a value, a credential spec with errors.
    InvalidInput = 2,
    /// Something the operation needs does not exist.
    NotFound = 3,
    /// An object exists and differs, or another field manager owns a field.
    Conflict = 4,
    /// The identity in use may not do what the operation needs.
    Forbidden = 5,
    /// The server could not be reached.
    Unreachable = 6,
    /// The server did not answer in time.
    Timeout = 7,
    /// The kubeconfig (or directory settings) cannot be used.
    Config = 8,
    /// Authentication failed.
    Unauthorized = 9,
    /// The cluster or directory is reachable but not healthy.
    Unhealthy = 10,
    /// A pointer argument that must not be NULL was NULL.
    NullPointer = 100,
    /// The request bytes are not UTF-8.
    InvalidUtf8 = 101,
    /// The request is not JSON, or not JSON of the operation's request type.
    InvalidJson = 102,
    /// The library panicked (a bug); the message says where.
    Panic = 103,
    /// The request is longer than `GMSA_MAX_REQUEST_LEN`.
    RequestTooLarge = 104,
    /// The call was stopped by [`gmsa_cancel`] (ABI 1 addition; older libraries never
    /// return it). Objects written before the stop stay as they are.
    Cancelled = 105,
}

/// A progress callback: `event` points to `event_len` bytes of UTF-8 JSON (NUL follows),
/// valid only during the call, one of
/// `{"event":"step","message":"..."}`,
/// `{"event":"object","kind":"...","name":"...","namespace":"...","action":"created"}`,
/// `{"event":"waiting","message":"...","done":1,"total":2}`.
/// It is called on the thread that called the operation, while that call runs.
pub type GmsaProgressFn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, event: *const u8, event_len: usize)>;

/// An opaque handle: the async runtime every call runs on, and the progress callback.
/// Create with [`gmsa_context_new`], release with [`gmsa_context_free`]. Calls may use one
/// context from several threads at once; freeing it while a call runs is not allowed.
pub struct GmsaContext {
    runtime: tokio::runtime::Runtime,
    reporter: support::CallbackReporter,
    /// Bumped by [`gmsa_cancel`]; every call in progress watches it.
    cancel: tokio::sync::watch::Sender<u64>,
}

impl GmsaContext {
    fn new() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(GmsaContext {
            runtime,
            reporter: support::CallbackReporter::default(),
            cancel: tokio::sync::watch::Sender::new(0),
        })
    }

    /// Run a future of the core on this context's runtime, on the calling thread, until it
    /// ends or [`gmsa_cancel`] is called on this context (then the future is dropped at its
    /// next await and the call returns `GMSA_STATUS_CANCELLED`).
    pub fn block_on<T>(
        &self,
        f: impl std::future::Future<Output = gmsa::Result<T>>,
    ) -> gmsa::Result<T> {
        let mut stop = self.cancel.subscribe();
        self.runtime.block_on(async move {
            tokio::select! {
                biased;
                _ = stop.changed() => Err(support::cancelled()),
                r = f => r,
            }
        })
    }

    /// The reporter that forwards progress to the callback set on this context.
    pub fn reporter(&self) -> &dyn gmsa::progress::Reporter {
        &self.reporter
    }
}

// ------------------------------------------------------------------ housekeeping

/// The ABI version of this library ([`GMSA_ABI_VERSION`]).
#[no_mangle]
pub extern "C" fn gmsa_abi_version() -> u32 {
    support::boundary(|| GMSA_ABI_VERSION).unwrap_or(0)
}

/// The version of this build (the workspace version, for example `"0.1.0"`) as a static
/// NUL-terminated string. Never free it.
#[no_mangle]
pub extern "C" fn gmsa_version() -> *const c_char {
    support::boundary(|| concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast())
        .unwrap_or(ptr::null())
}

/// Create a context and write it to `*out_ctx`.
///
/// Returns `GMSA_STATUS_NULL_POINTER` if `out_ctx` is NULL, `GMSA_STATUS_INTERNAL` if the
/// runtime cannot start (`*out_ctx` is then NULL).
///
/// # Safety
///
/// `out_ctx` must be NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn gmsa_context_new(out_ctx: *mut *mut GmsaContext) -> GmsaStatus {
    if out_ctx.is_null() {
        return GmsaStatus::NullPointer;
    }
    // SAFETY: `out_ctx` is not NULL and the caller guarantees it is writable.
    unsafe { out_ctx.write(ptr::null_mut()) };
    let made = support::boundary(|| GmsaContext::new().map(|c| Box::into_raw(Box::new(c))));
    match made {
        Some(Ok(ctx)) => {
            // SAFETY: as above.
            unsafe { out_ctx.write(ctx) };
            GmsaStatus::Ok
        }
        Some(Err(_)) => GmsaStatus::Internal,
        None => GmsaStatus::Panic,
    }
}

/// Release a context made by [`gmsa_context_new`]. NULL is accepted and ignored.
///
/// # Safety
///
/// `ctx` must be NULL or a context from [`gmsa_context_new`] not yet freed, with no call
/// using it in progress. It must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn gmsa_context_free(ctx: *mut GmsaContext) {
    if ctx.is_null() {
        return;
    }
    // SAFETY: the caller passes a pointer from `Box::into_raw` in `gmsa_context_new`,
    // not freed before and not in use.
    let ctx = unsafe { Box::from_raw(ctx) };
    support::boundary(move || drop(ctx));
}

/// Set (or, with a NULL `callback`, clear) the progress callback of a context. It receives
/// `user_data` unchanged on every event of every later call on this context.
///
/// # Safety
///
/// `ctx` must be NULL (then `GMSA_STATUS_NULL_POINTER` is returned) or a live context.
/// `callback`, if set, must be safe to call with `user_data` from any thread that calls an
/// operation on this context, until it is replaced or the context is freed.
#[no_mangle]
pub unsafe extern "C" fn gmsa_context_set_progress(
    ctx: *const GmsaContext,
    callback: GmsaProgressFn,
    user_data: *mut c_void,
) -> GmsaStatus {
    // SAFETY: the caller passes NULL or a live context.
    let Some(ctx) = (unsafe { ctx.as_ref() }) else {
        return GmsaStatus::NullPointer;
    };
    match support::boundary(|| ctx.reporter.set(callback, user_data)) {
        Some(()) => GmsaStatus::Ok,
        None => GmsaStatus::Panic,
    }
}

/// Stop every call in progress on `ctx` (from any thread, for example a Ctrl+C handler):
/// each returns `GMSA_STATUS_CANCELLED` at its next wait on the network or a timer. Calls
/// that start afterwards run normally. Objects already written stay written (as with Ctrl+C
/// in `kubectl gmsa`); re-running the operation completes it. Added in ABI version 1 (an
/// addition: callers that never cancel are unaffected).
///
/// Returns `GMSA_STATUS_NULL_POINTER` for a NULL `ctx`.
///
/// # Safety
///
/// `ctx` must be NULL or a live context (it may be in use by calls on other threads).
#[no_mangle]
pub unsafe extern "C" fn gmsa_cancel(ctx: *const GmsaContext) -> GmsaStatus {
    // SAFETY: the caller passes NULL or a live context.
    let Some(ctx) = (unsafe { ctx.as_ref() }) else {
        return GmsaStatus::NullPointer;
    };
    match support::boundary(|| ctx.cancel.send_modify(|g| *g = g.wrapping_add(1))) {
        Some(()) => GmsaStatus::Ok,
        None => GmsaStatus::Panic,
    }
}

/// Release a buffer the library wrote to an `out` parameter. NULL is accepted and ignored.
///
/// # Safety
///
/// `ptr` must be NULL or a buffer written by this library and not yet freed, and `len` the
/// length written with it.
#[no_mangle]
pub unsafe extern "C" fn gmsa_buffer_free(ptr: *mut u8, len: usize) {
    // SAFETY: forwarded from the caller's guarantee.
    support::boundary(|| unsafe { support::free_buffer(ptr, len) });
}

// ------------------------------------------------------------------ operations
//
// One export per operation of `gmsa::ops`. Each has the calling convention described in
// the crate documentation; the `# Safety` section of each is that convention.

/// Lint a credential spec. Request: `LintRequest`; outcome: `LintOutcome` (rule violations
/// are findings in a successful outcome, not errors).
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_lint(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |_, req| {
            ops::lint(req)
        })
    }
}

/// The `GMSACredentialSpec` resource for a credential spec. Request: `ConvertRequest`;
/// outcome: `ConvertOutcome`.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_convert(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |_, req| {
            ops::convert(req)
        })
    }
}

/// Add a credential spec, its ClusterRole and RoleBindings. Request: `AddCredspecRequest`;
/// outcome: `ApplyOutcome`.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_add_credspec(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |c, req| {
            c.block_on(ops::add_credspec(req, c.reporter()))
        })
    }
}

/// Remove what `add-credspec` made. Request: `RemoveCredspecRequest`; outcome:
/// `ApplyOutcome`.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_remove_credspec(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |c, req| {
            c.block_on(ops::remove_credspec(req, c.reporter()))
        })
    }
}

/// Bind service accounts to a credential spec's cluster role. Request: `BindRoleRequest`;
/// outcome: `ApplyOutcome`.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_bind_role(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |c, req| {
            c.block_on(ops::bind_role(req, c.reporter()))
        })
    }
}

/// Delete our RoleBindings of a cluster role to service accounts. Request:
/// `UnbindRoleRequest`; outcome: `ApplyOutcome`.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_unbind_role(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |c, req| {
            c.block_on(ops::unbind_role(req, c.reporter()))
        })
    }
}

/// List credential specs and who may use them. Request: `GetRequest`; outcome:
/// `GetOutcome`.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_get(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |c, req| {
            c.block_on(ops::get(req, c.reporter()))
        })
    }
}

/// Ask (LocalSubjectAccessReview) whether service accounts may use a credential spec.
/// Request: `CheckAccessRequest`; outcome: `CheckAccessOutcome`.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_check_access(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |c, req| {
            c.block_on(ops::check_access(req))
        })
    }
}

/// Write the domain-user Secret of a ccg plug-in. Request: `CreateSecretRequest` (its
/// `password` is never written back); outcome: `ApplyOutcome` with the data redacted.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_create_secret(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |c, req| {
            c.block_on(ops::create_secret(req, c.reporter()))
        })
    }
}

/// Install or upgrade the admission webhook (CRD, RBAC, certificates, Deployment, webhook
/// configurations). Request: `InstallWebhookRequest` (`"wait": false` returns once written;
/// `"dry_run": "server"` writes nothing); outcome: `InstallWebhookOutcome` (no private key).
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_install_webhook(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |c, req| {
            c.block_on(ops::install_webhook(req, c.reporter()))
        })
    }
}

/// Delete what `gmsa_install_webhook` made (the CRD only with `purge`). Request:
/// `UninstallWebhookRequest`; outcome: `UninstallWebhookOutcome`.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_uninstall_webhook(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |c, req| {
            c.block_on(ops::uninstall_webhook(req, c.reporter()))
        })
    }
}

/// The health of the webhook: CRD, Deployment, webhook configurations, certificate. Request:
/// `StatusRequest`; outcome: `StatusOutcome`. An unhealthy webhook is a successful call with
/// `"healthy": false` and its `problems`, not an error.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_status(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |c, req| {
            c.block_on(ops::status(req, c.reporter()))
        })
    }
}

/// Issue a new serving certificate (with `new_ca` a new CA too) and restart the webhook.
/// Request: `RotateCertsRequest`; outcome: `RotateCertsOutcome` (no private key).
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_rotate_certs(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |c, req| {
            c.block_on(ops::rotate_certs(req, c.reporter()))
        })
    }
}

/// Read the domain and a gMSA from Active Directory and make its credential spec. Request:
/// `NewCredspecRequest` (the bind password, if any, is `directory.password`: never echoed
/// in an outcome or an error); outcome: `NewCredspecOutcome`.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_new_credspec(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |c, req| {
            c.block_on(ops::new_credspec(req, c.reporter()))
        })
    }
}

/// Check a gMSA in Active Directory (existence, SPNs, who may read its password, KDS root
/// key...). Request: `CheckAccountRequest`; outcome: `CheckAccountOutcome` (failed checks are
/// in the outcome with `"passed": false`, not an error).
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_check_account(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |c, req| {
            c.block_on(ops::check_account(req, c.reporter()))
        })
    }
}

/// Create a gMSA (and optionally the group allowed to read its password) in Active
/// Directory. Request: `CreateAccountRequest` (`"dry_run": true` writes nothing and returns
/// the LDIF); outcome: `CreateAccountOutcome`.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_create_account(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |c, req| {
            c.block_on(ops::create_account(req, c.reporter()))
        })
    }
}

/// The gMSA troubleshooting checklist: directory, cluster, workload and (with `exec`)
/// in-container checks. Request: `DoctorRequest` (the bind password, if any, is
/// `directory.password`: never echoed); outcome: `DoctorOutcome` (failed checks are in the
/// outcome with `"passed": false`, not an error).
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_doctor(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |c, req| {
            c.block_on(ops::doctor(req, c.reporter()))
        })
    }
}

/// Make a workload run as a gMSA: its pod template's gmsaCredentialSpecName and Windows node
/// selector, with one server-side apply (`bind` also lets its service account use the spec).
/// Request: `AttachRequest`; outcome: `AttachOutcome`.
///
/// # Safety
///
/// `ctx` is NULL or a live context; `request` is NULL or valid for reading `request_len`
/// bytes; `out` and `out_len` are NULL or valid for writing one value each.
#[no_mangle]
pub unsafe extern "C" fn gmsa_attach(
    ctx: *const GmsaContext,
    request: *const u8,
    request_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> GmsaStatus {
    // SAFETY: the caller upholds the calling convention `run_json` requires.
    unsafe {
        run_json(ctx, request, request_len, out, out_len, |c, req| {
            c.block_on(ops::attach(req, c.reporter()))
        })
    }
}
