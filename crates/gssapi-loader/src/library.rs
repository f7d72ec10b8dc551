//! Finding and opening the platform's GSSAPI library at run time, once per process, and saying
//! plainly why Kerberos is unavailable when it cannot be opened.

use std::fmt;
use std::sync::OnceLock;

use crate::functions::{Entries, REQUIRED};
use crate::types::{OM_uint32, _GSS_S_UNAVAILABLE};

/// The libraries tried, in order: MIT Kerberos first (what Debian, Ubuntu, RHEL, Fedora and
/// Alpine install), then Heimdal; on macOS the GSS framework, which every Mac has.
#[cfg(target_os = "macos")]
pub const CANDIDATES: &[&str] = &["/System/Library/Frameworks/GSS.framework/GSS"];
#[cfg(not(target_os = "macos"))]
pub const CANDIDATES: &[&str] = &["libgssapi_krb5.so.2", "libgssapi.so.3"];

/// The GSSAPI library in use: which file it is, and its resolved entry points.
pub struct Gssapi {
    library: &'static str,
    pub(crate) entries: Entries,
    _handle: libloading::Library,
}

impl Gssapi {
    /// The name the library was opened by (one of [`CANDIDATES`]).
    pub fn library(&self) -> &'static str {
        self.library
    }
}

/// Why no usable GSSAPI library could be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// None of the candidates could be opened: each name with the loader's reason.
    NotFound(Vec<(&'static str, String)>),
    /// A library opened but lacks entry points a Kerberos client needs.
    MissingFunctions {
        library: &'static str,
        missing: Vec<&'static str>,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotFound(tried) => {
                let names: Vec<&str> = tried.iter().map(|(n, _)| *n).collect();
                write!(f, "no GSSAPI library found (tried {})", names.join(", "))?;
                // The loader's reason usually starts with the name already.
                match tried.first() {
                    Some((name, why)) if why.starts_with(name) => write!(f, "; {why}")?,
                    Some((name, why)) => write!(f, "; {name}: {why}")?,
                    None => {}
                }
                Ok(())
            }
            LoadError::MissingFunctions { library, missing } => write!(
                f,
                "{library} lacks the GSSAPI functions {}",
                missing.join(", ")
            ),
        }
    }
}

impl std::error::Error for LoadError {}

/// Opens the first of `candidates` that loads and has every [`REQUIRED`] function.
pub fn load_from(candidates: &[&'static str]) -> Result<Gssapi, LoadError> {
    let mut tried = Vec::new();
    let mut incomplete = None;
    for &name in candidates {
        // SAFETY: opening a system GSSAPI library runs its initialisers, which are plain C
        // library set-up with no preconditions on our side.
        match unsafe { libloading::Library::new(name) } {
            Ok(handle) => {
                let entries = Entries::resolve(&handle);
                let missing: Vec<&'static str> = entries
                    .missing()
                    .into_iter()
                    .filter(|m| REQUIRED.contains(m))
                    .collect();
                if missing.is_empty() {
                    return Ok(Gssapi {
                        library: name,
                        entries,
                        _handle: handle,
                    });
                }
                incomplete.get_or_insert(LoadError::MissingFunctions {
                    library: name,
                    missing,
                });
            }
            Err(e) => tried.push((name, e.to_string())),
        }
    }
    Err(incomplete.unwrap_or(LoadError::NotFound(tried)))
}

static LOADED: OnceLock<Result<Gssapi, LoadError>> = OnceLock::new();

/// The process's GSSAPI library, opened on first use and kept for the life of the process.
pub fn load() -> Result<&'static Gssapi, &'static LoadError> {
    LOADED.get_or_init(|| load_from(CANDIDATES)).as_ref()
}

/// Whether Kerberos can be used here: the library's name, or why not. Call it before a
/// Kerberos bind to give users a clear error instead of a bare GSS status.
pub fn availability() -> Result<&'static str, LoadError> {
    load().map(Gssapi::library).map_err(Clone::clone)
}

/// What every function returns when the library is missing or lacks that function:
/// `GSS_S_UNAVAILABLE`, with the minor status cleared.
///
/// # Safety
/// `minor_status` is null or valid for a write, as the GSSAPI requires of callers.
pub unsafe fn unavailable(minor_status: *mut OM_uint32) -> OM_uint32 {
    if !minor_status.is_null() {
        // SAFETY: the caller passes a valid pointer or null (checked above).
        unsafe { *minor_status = 0 };
    }
    _GSS_S_UNAVAILABLE
}
