//! The webhook's command line: where to listen, the key pair to serve (the upstream image's
//! `TLS_CRT` / `TLS_KEY` variables work too), the cluster to ask, and its limits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// Admission webhook for pods that use gMSA credential specs.
///
/// POST /mutate inlines each named credential spec's contents (only where unset); POST
/// /validate checks that the pod's service account may `use` every named spec, that inlined
/// contents match, and that an UPDATE changes no gMSA setting. Both also handle the
/// pods/ephemeralcontainers subresource. GET /health answers 204, GET /info the version.
#[derive(Debug, Clone, Parser)]
#[command(name = "gmsa-webhook", version = gmsa::VERSION)]
pub struct Args {
    /// Address and port to serve HTTPS on.
    #[arg(long, default_value = "0.0.0.0:8443", env = "GMSA_WEBHOOK_LISTEN")]
    pub listen: SocketAddr,

    /// PEM certificate (chain) to serve; re-read whenever the file changes.
    #[arg(long, env = "TLS_CRT", default_value = "/tls/tls.crt")]
    pub tls_cert_file: PathBuf,

    /// PEM private key of that certificate; re-read whenever the file changes.
    #[arg(long, env = "TLS_KEY", default_value = "/tls/tls.key")]
    pub tls_key_file: PathBuf,

    /// How often to look at the key pair's files for a new certificate, in seconds.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub cert_poll_seconds: u64,

    /// kubeconfig to reach the API server with; default: the pod's service account
    /// (in-cluster), or KUBECONFIG when set.
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// Give pods that use gMSA a random 15-character hostname when they set none (upstream's
    /// RANDOM_HOSTNAME), so that many replicas do not share one NetBIOS name.
    #[arg(
        long,
        env = "RANDOM_HOSTNAME",
        value_name = "BOOL",
        value_parser = parse_bool,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_value = "false",
        default_missing_value = "true"
    )]
    pub random_hostname: bool,

    /// Largest admission request body accepted, in bytes (larger ones get HTTP 413).
    #[arg(long, default_value_t = 3 * 1024 * 1024)]
    pub max_request_bytes: usize,

    /// Time allowed to read a request and decide, in seconds; past it the pod is refused.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=30))]
    pub request_timeout_seconds: u64,

    /// Time to finish in-flight requests after SIGTERM, in seconds.
    #[arg(long, default_value_t = 20)]
    pub shutdown_grace_seconds: u64,

    /// Worker threads (the webhook is I/O bound; 2 is plenty).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub threads: u64,
}

impl Args {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_seconds)
    }
}

/// `true`/`false` in the spellings Go's `strconv.ParseBool` takes, and an error (never a
/// panic, unlike upstream) for anything else.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" | "" => Ok(false),
        _ => Err(format!("{s:?} is not a boolean: use true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_as_go_spells_them_and_a_clear_error_otherwise() {
        assert_eq!(parse_bool("True"), Ok(true));
        assert_eq!(parse_bool("0"), Ok(false));
        assert!(parse_bool("yes").unwrap_err().contains("use true or false"));
        let a = Args::try_parse_from(["gmsa-webhook", "--random-hostname", "maybe"]);
        assert!(a.is_err());
        let a = Args::try_parse_from(["gmsa-webhook", "--random-hostname", "true"]).unwrap();
        assert!(a.random_hostname);
        let a = Args::try_parse_from(["gmsa-webhook", "--random-hostname"]).unwrap();
        assert!(a.random_hostname);
        let a = Args::try_parse_from(["gmsa-webhook"]).unwrap();
        assert!(!a.random_hostname);
    }
}
