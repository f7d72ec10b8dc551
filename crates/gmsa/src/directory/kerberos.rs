//! Whether a Kerberos bind can happen on this machine, asked before connecting. The platform's
//! GSSAPI is opened at run time (see docs/kerberos.md): when it is missing, the error names the
//! package that provides it and the `--user` alternative, instead of a bare GSS status mid-bind.

use crate::error::{Error, ErrorKind, Result};

use super::PASSWORD_ENV;

/// The packages that provide the GSSAPI library, by distribution.
pub const GSSAPI_PACKAGES: &str =
    "Debian/Ubuntu: apt-get install libgssapi-krb5-2; RHEL/Fedora: dnf install krb5-libs; Alpine: apk add krb5-libs";

/// Ok when Kerberos binds can be made here; else the clear error (exit code 8, Config).
pub fn ensure_available() -> Result<()> {
    #[cfg(not(feature = "kerberos"))]
    {
        Err(Error::new(
            ErrorKind::Config,
            "this build of kubectl-gmsa has no Kerberos support",
        )
        .with_hint(user_alternative()))
    }
    #[cfg(all(feature = "kerberos", unix))]
    {
        libgssapi_sys::availability()
            .map(|_| ())
            .map_err(|e| unavailable(&e.to_string()))
    }
    // Windows: SSPI, part of every Windows.
    #[cfg(all(feature = "kerberos", not(unix)))]
    {
        Ok(())
    }
}

/// The error for a machine without a usable GSSAPI library; `reason` says what was tried.
#[cfg_attr(not(all(feature = "kerberos", unix)), allow(dead_code))]
pub fn unavailable(reason: &str) -> Error {
    Error::new(
        ErrorKind::Config,
        format!("Kerberos is not available on this machine: {reason}"),
    )
    .with_hint(format!(
        "install the Kerberos GSSAPI library ({GSSAPI_PACKAGES}), or {}",
        user_alternative()
    ))
}

fn user_alternative() -> String {
    format!("pass --user for a simple bind over TLS (password from ${PASSWORD_ENV})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_names_the_packages_and_the_user_alternative() {
        let e = unavailable("no GSSAPI library found (tried libgssapi_krb5.so.2, libgssapi.so.3)");
        assert_eq!(e.kind, ErrorKind::Config);
        assert!(e.message.contains("libgssapi_krb5.so.2"), "{e:?}");
        let hint = e.hint.unwrap();
        for needle in ["libgssapi-krb5-2", "krb5-libs", "--user", PASSWORD_ENV] {
            assert!(hint.contains(needle), "{needle} missing from {hint}");
        }
    }

    /// The test machines have MIT Kerberos installed: a Kerberos build finds it.
    #[cfg(all(feature = "kerberos", target_os = "linux"))]
    #[test]
    fn kerberos_is_available_where_mit_is_installed() {
        if std::path::Path::new("/usr/lib/x86_64-linux-gnu/libgssapi_krb5.so.2").exists() {
            ensure_available().unwrap();
        }
    }
}
