//! LDAP errors into ours: timeouts, refused connections, TLS failures and LDAP result codes,
//! each naming the server, the cause once, and what to try.

use ldap3::LdapError;

use crate::error::{Error, ErrorKind};

/// Environment variable holding the password of `--user` (never taken from argv).
pub const PASSWORD_ENV: &str = "GMSA_LDAP_PASSWORD";

/// Turn an ldap3 error into ours, naming the server and what to try.
pub fn classify(e: LdapError, server: &str, host: &str) -> Error {
    match e {
        LdapError::Timeout { .. } => Error::new(
            ErrorKind::Timeout,
            format!("the domain controller {server} did not answer in time"),
        )
        .with_hint("check that it is reachable from here, or raise --timeout"),
        LdapError::Io { source } => io_error(&source, host),
        LdapError::LdapResult { result } => result_error(&result, server),
        other => Error::new(
            ErrorKind::Unreachable,
            format!("the connection to {server} failed: {other}"),
        ),
    }
}

pub(crate) fn io_error(e: &std::io::Error, host: &str) -> Error {
    if let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return tls_error(tls, host);
    }
    use std::io::ErrorKind as K;
    let (cause, hint) = match e.kind() {
        K::ConnectionRefused => ("connection refused".to_owned(), "check that the domain controller is running and that --server names it (ldaps:// is port 636, ldap:// port 389)"),
        K::TimedOut => ("connection timed out".to_owned(), "check the address and any firewall between here and the domain controller"),
        K::NotFound | K::AddrNotAvailable => (e.to_string(), "check the host name in --server"),
        K::UnexpectedEof | K::ConnectionReset | K::BrokenPipe => ("the server closed the connection".to_owned(), "check that --server names an LDAP port (ldaps:// on 636, ldap:// on 389)"),
        _ => (e.to_string(), "check that the domain controller is reachable from here"),
    };
    let msg = if e.to_string().contains("failed to lookup address")
        || e.to_string().contains("Name or service not known")
    {
        format!("cannot resolve {host}: {e}")
    } else {
        cause
    };
    Error::new(ErrorKind::Unreachable, msg).with_hint(hint)
}

pub(crate) fn tls_error(e: &rustls::Error, host: &str) -> Error {
    use rustls::CertificateError as C;
    let (cause, hint) = match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) | rustls::Error::InvalidCertificate(C::BadSignature) => (
            "the server's certificate is not issued by a trusted CA".to_owned(),
            "pass --ca-file with the certificate of the CA that issued the domain controller's certificate".to_owned(),
        ),
        rustls::Error::InvalidCertificate(C::NotValidForName) | rustls::Error::InvalidCertificate(C::NotValidForNameContext { .. }) => (
            format!("the server's certificate is not valid for the name \"{host}\""),
            "use a name the certificate holds in --server (usually the domain controller's DNS name)".to_owned(),
        ),
        rustls::Error::InvalidCertificate(C::Expired) | rustls::Error::InvalidCertificate(C::ExpiredContext { .. }) => (
            "the server's certificate has expired".to_owned(),
            "renew the domain controller's certificate".to_owned(),
        ),
        other => (format!("TLS failed: {other}"), "check --ca-file and that the server speaks TLS on this port".to_owned()),
    };
    Error::new(
        ErrorKind::Unreachable,
        format!("TLS verification failed: {cause}"),
    )
    .with_hint(hint)
}

/// An LDAP result code that is an error, with AD's sub-code for invalid credentials.
pub(crate) fn result_error(r: &ldap3::LdapResult, server: &str) -> Error {
    let text = r.text.trim_end_matches('\0').trim();
    let detail = if text.is_empty() {
        String::new()
    } else {
        format!(" ({text})")
    };
    match r.rc {
        49 => {
            let why = if text.contains("data 775") {
                "the account is locked out"
            } else if text.contains("data 533") {
                "the account is disabled"
            } else if text.contains("data 532") || text.contains("data 773") {
                "the password has expired or must be changed"
            } else {
                "invalid credentials"
            };
            Error::new(ErrorKind::Unauthorized, format!("{server} refused the credentials: {why}"))
                .with_hint(format!("check --user and the password in ${PASSWORD_ENV}, or your Kerberos ticket (klist)"))
        }
        8 | 13 => Error::new(ErrorKind::Config, format!("{server} requires a stronger or encrypted connection{detail}"))
            .with_hint("use ldaps://, or ldap:// with Kerberos"),
        50 => Error::new(ErrorKind::Forbidden, format!("{server} denied access: insufficient rights{detail}"))
            .with_hint("bind as an identity with the rights this needs (for example a domain admin for create-account)"),
        32 => Error::new(ErrorKind::NotFound, format!("{server} has no such object{detail}")),
        68 => Error::new(ErrorKind::Conflict, format!("{server}: the object already exists{detail}")),
        19 | 21 | 65 | 64 | 67 => Error::new(ErrorKind::InvalidInput, format!("{server} refused the change (LDAP result {}){detail}", r.rc)),
        51..=53 => Error::new(ErrorKind::Unreachable, format!("{server} is busy or unwilling (LDAP result {}){detail}", r.rc)),
        rc => Error::new(ErrorKind::Internal, format!("{server} answered LDAP result {rc}{detail}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_credentials_are_unauthorized() {
        let r = ldap3::LdapResult { rc: 49, matched: String::new(), text: "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1".into(), refs: vec![], ctrls: vec![] };
        let e = result_error(&r, "ldaps://dc1:636");
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert!(e.message.contains("invalid credentials"));
    }
}
