//! The API server's version: asking for it (warming the connections the next requests
//! use), and what each version supports.

use serde::{Deserialize, Serialize};

use super::client::{speaks_http2, Cluster};
use super::error::classify;
use crate::error::{Error, ErrorKind, Result};

/// A Kubernetes server version, `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ServerVersion {
    pub major: u32,
    pub minor: u32,
}

impl ServerVersion {
    /// The newest API this tool knows: what a client-side dry run renders for.
    pub const NEWEST: ServerVersion = ServerVersion {
        major: 1,
        minor: 33,
    };

    /// Parse `1.28`, `v1.28.3`, or the `/version` fields (`minor` may be `28+`).
    pub fn parse(s: &str) -> Option<ServerVersion> {
        let s = s.trim().trim_start_matches('v');
        let mut parts = s.split('.');
        let major = digits(parts.next()?)?;
        let minor = digits(parts.next()?)?;
        Some(ServerVersion { major, minor })
    }

    pub fn from_info(major: &str, minor: &str, git_version: &str) -> Option<ServerVersion> {
        match (digits(major), digits(minor)) {
            (Some(major), Some(minor)) => Some(ServerVersion { major, minor }),
            _ => ServerVersion::parse(git_version),
        }
    }

    fn at_least(self, minor: u32) -> bool {
        self.major > 1 || (self.major == 1 && self.minor >= minor)
    }

    /// Webhook `matchConditions` (CEL): beta and on by default from 1.28.
    pub fn has_match_conditions(self) -> bool {
        self.at_least(28)
    }

    /// `policy/v1` PodDisruptionBudget: from 1.21.
    pub fn pdb_api_version(self) -> &'static str {
        if self.at_least(21) {
            "policy/v1"
        } else {
            "policy/v1beta1"
        }
    }
}

impl std::fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

fn digits(s: &str) -> Option<u32> {
    let d: String = s.chars().take_while(char::is_ascii_digit).collect();
    d.parse().ok()
}

/// The API server's version, from `/version`.
pub async fn server_version(cluster: &Cluster) -> Result<ServerVersion> {
    let info = cluster.client.apiserver_version().await.map_err(|e| {
        classify(e).context(format_args!(
            "read the version of the API server at {}",
            cluster.server
        ))
    })?;
    ServerVersion::from_info(&info.major, &info.minor, &info.git_version).ok_or_else(|| {
        Error::new(
            ErrorKind::Internal,
            format!(
                "failed to understand the API server's version \"{}\"",
                info.git_version
            ),
        )
    })
}

/// The server version, with the connections for the parallel reads and checks that follow.
/// Over HTTP/2 (what API servers offer over TLS) one connection carries them all. Over
/// HTTP/1.1 `connections` connections are opened at once: a new connection costs a round
/// trip more than a reused one, so opening them together costs that once instead of once per
/// wave of parallel requests.
pub async fn server_version_warm(cluster: &Cluster, connections: usize) -> Result<ServerVersion> {
    if speaks_http2(cluster).await {
        return server_version(cluster).await;
    }
    let warm =
        futures::future::join_all((1..connections).map(|_| cluster.client.apiserver_version()));
    let (version, _) = futures::join!(server_version(cluster), warm);
    version
}
