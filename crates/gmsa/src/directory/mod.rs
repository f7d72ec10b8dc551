//! Active Directory over LDAP: where the domain controller is and how to bind to it
//! (simple bind over TLS, or Kerberos), with errors that name the server, the cause and
//! what to try. Reading the domain's facts and accounts lives in `domain`; the binary
//! encodings (SID, GUID, security descriptor) in `codec`.

pub mod codec;
pub mod dns;
pub mod domain;
pub mod error;
mod kerberos;
pub mod ldif;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry};
use serde::{Deserialize, Serialize};

use self::error::io_error;
pub use self::error::{classify, PASSWORD_ENV};
use crate::error::{Error, ErrorKind, Result};

/// Default seconds for connecting and for each LDAP operation.
pub const DEFAULT_TIMEOUT_SECS: u64 = 15;

/// Which domain controller to talk to and how to authenticate. The same for every
/// directory operation. Its `Debug` shows whether a password is set, never the password.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryTarget {
    /// `ldaps://host[:port]`, or `ldap://host[:port]` (StartTLS for simple binds; Kerberos
    /// seals the connection itself). Default: `ldap://<domain>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// DNS name of the domain (checked against what the server serves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The DNS server (`IP` or `IP:PORT`) to find the DCs of `domain` with when `server` is not
    /// given. Default: `$GMSA_DNS_SERVER`, else the system's resolver configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_server: Option<String>,
    /// PEM file with the CA certificates to trust (default: the system's trust store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Simple bind as this user (`user@domain`, `DOMAIN\user` or a DN). Without it, Kerberos
    /// with the caller's ticket cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The password of `user`. Read from requests, never written back out.
    #[serde(default, skip_serializing)]
    pub password: Option<String>,
    /// Seconds for connecting and for each operation (default 15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
}

impl std::fmt::Debug for DirectoryTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryTarget")
            .field("server", &self.server)
            .field("domain", &self.domain)
            .field("dns_server", &self.dns_server)
            .field("ca_file", &self.ca_file)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

/// How the connection was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// Simple bind, always over TLS (LDAPS or StartTLS).
    Simple,
    /// SASL GSSAPI (Kerberos) with the caller's credentials.
    Kerberos,
}

/// What one connection cost: round trips and time, for benchmarks and `-v`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionStats {
    pub connections: u32,
    /// LDAP requests answered by the server (StartTLS, bind steps, searches, writes).
    pub round_trips: u32,
    pub searches: u32,
    pub connect_ms: f64,
    pub bind_ms: f64,
    pub queries_ms: f64,
}

/// rootDSE facts (readable before binding).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootDse {
    pub default_naming_context: String,
    pub root_domain_naming_context: String,
    pub configuration_naming_context: String,
    /// The DC's own DNS name.
    pub dns_host_name: String,
}

/// A bound connection to one domain controller.
pub struct Directory {
    ldap: Ldap,
    /// The server as the user named it (for messages).
    pub server: String,
    pub host: String,
    pub auth: AuthMethod,
    /// True when the connection is encrypted (TLS, or sealed Kerberos).
    pub encrypted: bool,
    pub root: RootDse,
    pub stats: ConnectionStats,
    timeout: Duration,
}

/// A search result entry with case-insensitive attribute access.
#[derive(Debug, Clone)]
pub struct Entry(pub SearchEntry);

impl Entry {
    pub fn dn(&self) -> &str {
        &self.0.dn
    }

    /// All values of a text attribute.
    pub fn strs(&self, name: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .0
            .attrs
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.iter().cloned())
            .collect();
        out.extend(
            self.0
                .bin_attrs
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .flat_map(|(_, v)| v.iter().map(|b| String::from_utf8_lossy(b).into_owned())),
        );
        out
    }

    /// The first value of a text attribute.
    pub fn str(&self, name: &str) -> Option<String> {
        self.strs(name).into_iter().next()
    }

    /// All values of a binary attribute (which ldap3 may have put with the text ones).
    pub fn bins(&self, name: &str) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = self
            .0
            .bin_attrs
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.iter().cloned())
            .collect();
        out.extend(
            self.0
                .attrs
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .flat_map(|(_, v)| v.iter().map(|s| s.as_bytes().to_vec())),
        );
        out
    }

    pub fn bin(&self, name: &str) -> Option<Vec<u8>> {
        self.bins(name).into_iter().next()
    }

    pub fn has(&self, name: &str) -> bool {
        self.0
            .attrs
            .keys()
            .chain(self.0.bin_attrs.keys())
            .any(|k| k.eq_ignore_ascii_case(name))
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.str(name).and_then(|s| s.trim().parse().ok())
    }

    pub fn has_class(&self, class: &str) -> bool {
        self.strs("objectClass")
            .iter()
            .any(|c| c.eq_ignore_ascii_case(class))
    }
}

/// A parsed `ldap[s]://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

impl ServerUrl {
    pub fn parse(s: &str) -> Result<ServerUrl> {
        let bad = |why: &str| {
            Error::invalid(format!("invalid --server \"{s}\": {why}"))
                .with_hint("write it as ldaps://dc1.contoso.com or ldap://dc1.contoso.com[:port]")
        };
        let (tls, rest) = if let Some(r) = s.strip_prefix("ldaps://") {
            (true, r)
        } else if let Some(r) = s.strip_prefix("ldap://") {
            (false, r)
        } else if !s.contains("://") && !s.is_empty() {
            return Err(Error::invalid(format!(
                "invalid --server \"{s}\": --server needs a scheme: ldaps://{s}"
            ))
            .with_hint(format!(
                "write --server ldaps://{s} (TLS, port 636) or --server ldap://{s} (port 389: StartTLS with --user, sealed with Kerberos)"
            )));
        } else {
            return Err(bad("the scheme must be ldaps:// or ldap://"));
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') || rest.contains('?') {
            return Err(bad(
                "only a host and an optional port may follow the scheme",
            ));
        }
        let (host, port) = if let Some(r) = rest.strip_prefix('[') {
            let (h, p) = r.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            (h.to_owned(), p.strip_prefix(':'))
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (rest.to_owned(), None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            Some(p) => p.parse().map_err(|_| bad("the port is not a number"))?,
            None if tls => 636,
            None => 389,
        };
        Ok(ServerUrl { tls, host, port })
    }

    pub fn url(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!(
            "{}://{host}:{}",
            if self.tls { "ldaps" } else { "ldap" },
            self.port
        )
    }
}

impl DirectoryTarget {
    /// The server to use: `--server`, else `ldap://<domain>`.
    pub fn server_url(&self) -> Result<ServerUrl> {
        match (&self.server, &self.domain) {
            (Some(s), _) => ServerUrl::parse(s),
            (None, Some(d)) => {
                crate::names::check_dns_domain(d)
                    .map_err(|m| Error::invalid(format!("invalid --domain: {m}")))?;
                ServerUrl::parse(&format!("ldap://{d}"))
            }
            (None, None) => Err(Error::invalid("no domain controller given")
                .with_hint("pass --server ldaps://<dc> or --domain <dns domain>")),
        }
    }

    pub fn auth(&self) -> AuthMethod {
        if self.user.is_some() {
            AuthMethod::Simple
        } else {
            AuthMethod::Kerberos
        }
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS).max(1))
    }
}

fn tls_config(ca_file: Option<&std::path::Path>) -> Result<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| {
                    Error::invalid(format!("failed to read --ca-file {}: {e}", path.display()))
                        .with_hint("pass a PEM file with the certificate of the CA that issued the domain controller's certificate")
                })?;
            if certs.is_empty() {
                return Err(Error::invalid(format!(
                    "--ca-file {} holds no PEM certificate",
                    path.display()
                ))
                .with_hint("pass a PEM file (-----BEGIN CERTIFICATE-----) with the certificate of the CA that issued the domain controller's certificate"));
            }
            for c in certs {
                roots.add(c).map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidInput,
                        format!(
                            "failed to use a certificate of --ca-file {}: {e}",
                            path.display()
                        ),
                    )
                })?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            for c in native.certs {
                let _ = roots.add(c);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(ErrorKind::Internal, format!("failed to set up TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A simple bind refused for a bare user name (no `@`, `\\` or `=`): say how to write it,
/// with the domain read from rootDSE. Windows DCs may accept a bare sAMAccountName; Samba
/// refuses it like a wrong password, so both are named.
fn bare_user_hint(err: Error, user: &str, naming_context: &str) -> Error {
    let bare = !user.contains(['@', '\\', '=']);
    if err.kind != ErrorKind::Unauthorized || !bare {
        return err;
    }
    let domain = dns_name_of(naming_context);
    let example = if domain.is_empty() {
        format!("{user}@<domain>")
    } else {
        format!("{user}@{domain}")
    };
    err.with_hint(format!(
        "use user@domain or DOMAIN\\user: --user {example} (a bare user name does not bind on every domain controller); then check the password"
    ))
}

/// `DC=contoso,DC=com` -> `contoso.com`.
pub fn dns_name_of(naming_context: &str) -> String {
    naming_context
        .split(',')
        .filter_map(|rdn| {
            let (k, v) = rdn.trim().split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("DC")
                .then(|| v.trim().to_owned())
        })
        .collect::<Vec<_>>()
        .join(".")
}

impl Directory {
    /// Connect, read rootDSE and bind, as the target says. Refuses a simple bind over an
    /// unencrypted connection: `ldap://` with `--user` always uses StartTLS.
    pub async fn connect(target: &DirectoryTarget) -> Result<Directory> {
        if target.auth() == AuthMethod::Kerberos {
            kerberos::ensure_available()?;
        }
        let timeout = target.timeout();
        if let Some(ns) = target
            .dns_server
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            dns::parse_server(ns)?; // bad input is refused even when --server makes it unused
        }
        // `--domain` alone: the DCs from DNS SRV records, else ldap://<domain>.
        let (url, stream) = match (&target.server, &target.domain) {
            (None, Some(domain)) => {
                target.server_url()?; // validates the domain name
                match dns::find_dcs(domain, target.dns_server.as_deref(), timeout).await {
                    Ok(dcs) => connect_first(&dcs, timeout).await?,
                    Err(e) if e.kind == ErrorKind::Config => (target.server_url()?, None),
                    Err(e) => {
                        return Err(e.context(format_args!("find a domain controller of {domain}")))
                    }
                }
            }
            _ => {
                let url = target.server_url()?;
                let stream = connect_tcp(&url, timeout).await?;
                (url, Some(stream))
            }
        };
        let server = url.url();
        let auth = target.auth();
        let password = match auth {
            AuthMethod::Simple => {
                let p = target.password.clone().unwrap_or_default();
                if p.is_empty() {
                    return Err(Error::invalid("no password for --user").with_hint(format!(
                        "pipe it in with --password-stdin, set ${PASSWORD_ENV}, or run in a terminal to be asked"
                    )));
                }
                Some(p)
            }
            AuthMethod::Kerberos => None,
        };
        let starttls = !url.tls && auth == AuthMethod::Simple;
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(timeout)
            .set_starttls(starttls);
        if url.tls || starttls {
            settings = settings.set_config(tls_config(target.ca_file.as_deref())?);
        }
        if let Some(stream) = stream {
            // Connected to the address DNS gave; the URL keeps the DC's name for TLS and Kerberos.
            settings = settings.set_std_stream(ldap3::StdStream::Tcp(stream));
        }
        let mut stats = ConnectionStats {
            connections: 1,
            ..Default::default()
        };
        let t0 = Instant::now();
        let connected =
            tokio::time::timeout(timeout, LdapConnAsync::with_settings(settings, &url.url())).await;
        let (conn, ldap) = flat(connected).map_err(|e| {
            classify(e, &server, &url.host).context(format_args!("connect to {server}"))
        })?;
        if starttls {
            stats.round_trips += 1;
        }
        ldap3::drive!(conn);
        stats.connect_ms = ms(t0);
        let mut dir = Directory {
            ldap,
            server: server.clone(),
            host: url.host.clone(),
            auth,
            encrypted: url.tls || starttls,
            root: RootDse::default(),
            stats,
            timeout,
        };
        let t1 = Instant::now();
        dir.read_root_dse().await?;
        dir.stats.queries_ms += ms(t1);
        let t2 = Instant::now();
        match auth {
            AuthMethod::Simple => {
                let user = target.user.as_deref().unwrap_or_default();
                let pw = password.unwrap_or_default();
                let r = tokio::time::timeout(timeout, dir.ldap.simple_bind(user, &pw)).await;
                dir.stats.round_trips += 1;
                let r = flat(r).and_then(|r| r.success());
                r.map_err(|e| {
                    let err = classify(e, &server, &url.host);
                    bare_user_hint(err, user, &dir.root.default_naming_context)
                        .context(format_args!("bind to {server} as {user}"))
                })?;
            }
            AuthMethod::Kerberos => dir.kerberos_bind().await?,
        }
        dir.stats.bind_ms = ms(t2);
        Ok(dir)
    }

    #[cfg(feature = "kerberos")]
    async fn kerberos_bind(&mut self) -> Result<()> {
        // The service principal is ldap/<DC DNS name>: the name in --server unless it is an
        // address, then the DC's own name from rootDSE.
        let fqdn = if self.host.parse::<std::net::IpAddr>().is_ok() || !self.host.contains('.') {
            self.root.dns_host_name.clone()
        } else {
            self.host.clone()
        };
        let r = tokio::time::timeout(self.timeout, self.ldap.sasl_gssapi_bind(&fqdn)).await;
        self.stats.round_trips += 2;
        let r = flat(r).and_then(|r| r.success());
        r.map_err(|e| {
            let text = e.to_string();
            let mut err = classify(e, &self.server, &self.host);
            if err.kind == ErrorKind::Unreachable || err.kind == ErrorKind::Internal {
                err = Error::new(ErrorKind::Unauthorized, format!("Kerberos authentication to {} failed: {text}", self.server));
            }
            err.with_hint(format!(
                "get a ticket first (kinit user@REALM; klist shows it), check that ldap/{fqdn} is the DC's name, or pass --user for a simple bind"
            ))
            .context(format_args!("bind to {} with Kerberos", self.server))
        })?;
        // Without TLS, ldap3 installs Kerberos confidentiality (sealing).
        self.encrypted = true;
        Ok(())
    }

    #[cfg(not(feature = "kerberos"))]
    async fn kerberos_bind(&mut self) -> Result<()> {
        unreachable!("refused in connect without the kerberos feature")
    }

    async fn read_root_dse(&mut self) -> Result<()> {
        let attrs = [
            "defaultNamingContext",
            "rootDomainNamingContext",
            "configurationNamingContext",
            "dnsHostName",
        ];
        let entries = self
            .search_raw("", Scope::Base, "(objectClass=*)", &attrs)
            .await
            .map_err(|e| e.context("read rootDSE"))?;
        let e = entries.into_iter().next().ok_or_else(|| {
            Error::new(
                ErrorKind::Internal,
                format!("failed to read rootDSE: {} returned nothing", self.server),
            )
        })?;
        let get = |n: &str| e.str(n).unwrap_or_default();
        self.root = RootDse {
            default_naming_context: get("defaultNamingContext"),
            root_domain_naming_context: get("rootDomainNamingContext"),
            configuration_naming_context: get("configurationNamingContext"),
            dns_host_name: get("dnsHostName"),
        };
        if self.root.default_naming_context.is_empty()
            || self.root.configuration_naming_context.is_empty()
        {
            return Err(Error::new(ErrorKind::InvalidInput, format!("{} does not look like an Active Directory domain controller (rootDSE has no naming contexts)", self.server)));
        }
        Ok(())
    }

    fn op_error(&self, e: LdapError) -> Error {
        classify(e, &self.server, &self.host)
    }

    async fn search_raw(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Vec<Entry>> {
        self.stats.searches += 1;
        self.stats.round_trips += 1;
        let r = tokio::time::timeout(
            self.timeout,
            self.ldap.search(base, scope, filter, attrs.to_vec()),
        )
        .await;
        let r = flat(r).and_then(|r| r.success());
        let (entries, _) = r.map_err(|e| self.op_error(e))?;
        // Subtree searches from a domain root return referrals to other partitions: skip them.
        Ok(entries
            .into_iter()
            .filter(|e| !e.is_ref() && !e.is_intermediate())
            .map(|e| Entry(SearchEntry::construct(e)))
            .collect())
    }

    /// One search; referrals skipped. Errors name the server.
    pub async fn search(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Vec<Entry>> {
        let t = Instant::now();
        let r = self.search_raw(base, scope, filter, attrs).await;
        self.stats.queries_ms += ms(t);
        r
    }

    /// Like `search`, but a missing base object is an empty answer.
    pub async fn search_opt(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Vec<Entry>> {
        match self.search(base, scope, filter, attrs).await {
            Err(e) if e.kind == ErrorKind::NotFound => Ok(vec![]),
            r => r,
        }
    }

    /// Add an entry.
    pub async fn add(&mut self, dn: &str, attrs: Vec<(String, Vec<Vec<u8>>)>) -> Result<()> {
        self.stats.round_trips += 1;
        let attrs: Vec<(Vec<u8>, std::collections::HashSet<Vec<u8>>)> = attrs
            .into_iter()
            .map(|(k, v)| (k.into_bytes(), v.into_iter().collect()))
            .collect();
        let r = tokio::time::timeout(self.timeout, self.ldap.add(dn, attrs)).await;
        let r = flat(r).and_then(|r| r.success());
        r.map(|_| ()).map_err(|e| self.op_error(e))
    }

    /// Delete an entry (used to undo a partial create).
    pub async fn delete(&mut self, dn: &str) -> Result<()> {
        self.stats.round_trips += 1;
        let r = tokio::time::timeout(self.timeout, self.ldap.delete(dn)).await;
        let r = flat(r).and_then(|r| r.success());
        r.map(|_| ()).map_err(|e| self.op_error(e))
    }

    /// The identity the server sees (`u:DOMAIN\user` or `dn:...`), from the Who Am I operation.
    pub async fn who_am_i(&mut self) -> Result<String> {
        self.stats.round_trips += 1;
        let r = tokio::time::timeout(self.timeout, self.ldap.extended(ldap3::exop::WhoAmI)).await;
        let r = flat(r).and_then(|r| r.success());
        let (exop, _) = r.map_err(|e| self.op_error(e))?;
        Ok(exop
            .val
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default())
    }

    /// Unbind politely; errors are irrelevant at that point.
    pub async fn close(mut self) -> ConnectionStats {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.ldap.unbind()).await;
        self.stats
    }
}

/// Connect to the first reachable DC of an SRV answer: its URL (by name) and the stream.
/// The TCP connection to `--server`, made here rather than by ldap3 so that it has
/// TCP_NODELAY: without it, a request written in two segments (a TLS record, an LDAP
/// message) waits on the server's delayed ACK, about 40 ms per search over LDAPS.
async fn connect_tcp(url: &ServerUrl, timeout: Duration) -> Result<std::net::TcpStream> {
    let server = url.url();
    let addr = (
        url.host.trim_start_matches('[').trim_end_matches(']'),
        url.port,
    );
    let stream = match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            return Err(io_error(&e, &url.host).context(format_args!("connect to {server}")))
        }
        Err(elapsed) => {
            return Err(classify(LdapError::Timeout { elapsed }, &server, &url.host)
                .context(format_args!("connect to {server}")))
        }
    };
    nodelay_std(stream, &server)
}

fn nodelay_std(s: tokio::net::TcpStream, server: &str) -> Result<std::net::TcpStream> {
    let _ = s.set_nodelay(true);
    s.into_std().map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("failed to use the connection to {server}: {e}"),
        )
    })
}

async fn connect_first(
    dcs: &[dns::SrvRecord],
    timeout: Duration,
) -> Result<(ServerUrl, Option<std::net::TcpStream>)> {
    let mut tried = vec![];
    for dc in dcs {
        let url = ServerUrl {
            tls: false,
            host: dc.target.clone(),
            port: dc.port,
        };
        for ip in &dc.addresses {
            let addr = std::net::SocketAddr::new(*ip, dc.port);
            match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
                Ok(Ok(s)) => return Ok((url, Some(nodelay_std(s, &addr.to_string())?))),
                Ok(Err(e)) => tried.push(format!("{} ({addr}): {e}", dc.target)),
                Err(_) => tried.push(format!("{} ({addr}): timed out", dc.target)),
            }
        }
        if dc.addresses.is_empty() {
            // Only the DNS server that named it is asked for its address.
            tried.push(format!(
                "{}: no A or AAAA record at the DNS server",
                dc.target
            ));
        }
    }
    Err(Error::new(
        ErrorKind::Unreachable,
        format!(
            "no domain controller could be reached: {}",
            tried.join("; ")
        ),
    )
    .with_hint("pass --server with a reachable domain controller"))
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// One error type for "timed out" and "failed".
fn flat<T>(
    r: std::result::Result<std::result::Result<T, LdapError>, tokio::time::error::Elapsed>,
) -> std::result::Result<T, LdapError> {
    r.map_err(LdapError::from).and_then(|r| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls() {
        assert_eq!(
            ServerUrl::parse("ldaps://dc1.contoso.com").unwrap(),
            ServerUrl {
                tls: true,
                host: "dc1.contoso.com".into(),
                port: 636
            }
        );
        assert_eq!(
            ServerUrl::parse("ldap://127.0.0.1:3389/").unwrap().port,
            3389
        );
        assert_eq!(ServerUrl::parse("ldap://[::1]").unwrap().host, "::1");
        let e = ServerUrl::parse("127.0.0.1").unwrap_err();
        assert!(
            e.message
                .contains("--server needs a scheme: ldaps://127.0.0.1"),
            "{e}"
        );
        assert_eq!(
            ServerUrl::parse("ldap://[::1]").unwrap().url(),
            "ldap://[::1]:389"
        );
        for bad in [
            "dc1",
            "https://dc1",
            "ldap://",
            "ldap://dc1:x",
            "ldap://dc1/o=x",
        ] {
            // Bad input (exit 2), not an unusable kubeconfig (8).
            assert_eq!(
                ServerUrl::parse(bad).unwrap_err().kind,
                ErrorKind::InvalidInput,
                "{bad}"
            );
        }
    }

    #[test]
    fn a_bare_user_is_told_how_to_write_it() {
        let refused = || Error::new(ErrorKind::Unauthorized, "refused");
        let e = bare_user_hint(refused(), "Administrator", "DC=gmsa,DC=test");
        let hint = e.hint.unwrap();
        assert!(hint.contains("user@domain or DOMAIN\\user"), "{hint}");
        assert!(hint.contains("--user Administrator@gmsa.test"), "{hint}");
        for qualified in ["a@gmsa.test", "GMSA\\a", "CN=a,DC=gmsa,DC=test"] {
            assert!(bare_user_hint(refused(), qualified, "DC=x").hint.is_none());
        }
        let other = Error::new(ErrorKind::Unreachable, "down");
        assert!(bare_user_hint(other, "Administrator", "DC=x")
            .hint
            .is_none());
        assert_eq!(dns_name_of("DC=contoso, DC=com"), "contoso.com");
        assert_eq!(dns_name_of(""), "");
    }

    #[test]
    fn password_is_never_serialized() {
        let t = DirectoryTarget {
            user: Some("u@x".into()),
            password: Some("s3cret".into()),
            ..Default::default()
        };
        let j = serde_json::to_string(&t).unwrap();
        assert!(!j.contains("s3cret"), "{j}");
        let back: DirectoryTarget = serde_json::from_str(r#"{"user":"u","password":"p"}"#).unwrap();
        assert_eq!(back.password.as_deref(), Some("p"));
    }
}
