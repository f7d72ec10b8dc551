//! Connecting: which cluster (`Target`), the kubeconfig discovery (the only copy), the
//! client with its timeouts, and the namespace an operation defaults to.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::outcome::DryRun;

/// Which cluster to talk to, in kubectl's terms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Path of the kubeconfig; default `KUBECONFIG`, then `~/.kube/config`, then in-cluster.
    pub kubeconfig: Option<PathBuf>,
    /// kubeconfig context; default the current context.
    pub context: Option<String>,
    /// Seconds to wait for any one request (connect, read, write). Default 30; 0 waits
    /// without a limit (kubectl's `--request-timeout=0`).
    pub request_timeout_secs: Option<u64>,
}

/// Seconds to wait for one request when the target names no timeout.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;

/// A connected cluster.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    /// The namespace of the kubeconfig context (`default` when it names none).
    pub default_namespace: String,
    /// The API server's URL, for messages.
    pub server: String,
}

/// Connect to the cluster a `Target` names. Nothing is sent yet: the first request fails
/// when the server is unreachable.
pub async fn connect(target: &Target) -> Result<Cluster> {
    let options = KubeConfigOptions {
        context: target.context.clone(),
        cluster: None,
        user: None,
    };
    let kubeconfig_error = |e: KubeconfigLoadError| {
        let e = match e {
            KubeconfigLoadError::Kube(e) => e,
            KubeconfigLoadError::Ours(e) => return e,
        };
        let message = e.to_string();
        let mut err = Error::new(
            ErrorKind::Config,
            format!("failed to load kubeconfig: {message}"),
        );
        if message.contains("context") {
            err = err.with_hint(
                "`kubectl config get-contexts` lists the contexts; pass one with --context",
            );
        }
        err
    };
    let kube_error =
        |e: kube::config::KubeconfigError| kubeconfig_error(KubeconfigLoadError::Kube(e));
    let mut config = match load_kubeconfig(target).map_err(kubeconfig_error)? {
        Some(kc) => Config::from_custom_kubeconfig(kc, &options)
            .await
            .map_err(kube_error)?,
        None if target.context.is_some() => {
            return Err(Error::new(
                ErrorKind::Config,
                "failed to load kubeconfig: --context needs a kubeconfig, and there is none (no KUBECONFIG, no ~/.kube/config)",
            )
            .with_hint("pass --kubeconfig PATH, or set KUBECONFIG"))
        }
        None => Config::incluster().map_err(|e| {
            Error::new(ErrorKind::Config, format!("failed to find a kubeconfig: no KUBECONFIG, no ~/.kube/config, and not in a cluster ({e})"))
                .with_hint("pass --kubeconfig PATH, or set KUBECONFIG")
        })?,
    };
    let timeout = match target
        .request_timeout_secs
        .unwrap_or(DEFAULT_REQUEST_TIMEOUT_SECS)
    {
        0 => None,
        secs => Some(Duration::from_secs(secs)),
    };
    config.connect_timeout = timeout;
    config.read_timeout = timeout;
    config.write_timeout = timeout;
    let server = config.cluster_url.to_string();
    let default_namespace = config.default_namespace.clone();
    let client = client_with_nodelay(&config)
        .or_else(|_| Client::try_from(config))
        .map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!("failed to set up a client for {server}: {e}"),
            )
        })?;
    Ok(Cluster {
        client,
        default_namespace,
        server: server.trim_end_matches('/').to_owned(),
    })
}

/// kube's client stack (TLS, timeouts, base URI, auth, headers), but with TCP_NODELAY on its
/// connections: without it every new connection waits for a delayed ACK (about 40 ms on
/// Linux) on its first request. Proxies are not handled here: with a proxy, the caller falls
/// back to kube's own stack.
fn client_with_nodelay(config: &Config) -> Result<Client, kube::Error> {
    use kube::client::ConfigExt;
    use tower::ServiceBuilder;

    if config.proxy_url.is_some() {
        return Err(kube::Error::ProxyProtocolUnsupported {
            proxy_url: Box::new(config.proxy_url.clone().expect("checked")),
        });
    }
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    // HTTP/2 where the server offers it (ALPN), as kubectl does: the concurrent requests of
    // one command share one connection instead of a TLS handshake each.
    let mut https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config.rustls_client_config()?)
        .https_or_http();
    if let Some(name) = &config.tls_server_name {
        let name = rustls_pki_types::ServerName::try_from(name.clone()).map_err(|e| {
            kube::Error::Service(format!("invalid tls-server-name {name:?}: {e}").into())
        })?;
        https = https.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name));
    }
    let https = https.enable_all_versions().wrap_connector(http);
    let mut timeouts = hyper_timeout::TimeoutConnector::new(https);
    timeouts.set_connect_timeout(config.connect_timeout);
    timeouts.set_read_timeout(config.read_timeout);
    timeouts.set_write_timeout(config.write_timeout);
    let hyper_client: hyper_util::client::legacy::Client<_, kube::client::Body> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(timeouts);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .service(hyper_client);
    Ok(Client::new(service, config.default_namespace.clone()))
}

/// Whether the client's connection to the server speaks HTTP/2 (ALPN chose `h2`). Makes one
/// request (`/version`), which also opens that connection: over HTTP/2 every later request
/// of the command, parallel ones included, shares it.
pub async fn speaks_http2(cluster: &Cluster) -> bool {
    let Ok(req) = http::Request::get("/version").body(kube::client::Body::empty()) else {
        return false;
    };
    match cluster.client.send(req).await {
        Ok(res) => res.version() == http::Version::HTTP_2,
        Err(_) => false,
    }
}

fn home_kubeconfig() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(|h| PathBuf::from(h).join(".kube").join("config"))
}

/// The kubeconfig's current context (what `connect` uses without --context), found the way
/// `connect` finds the kubeconfig; `None` when there is none.
pub fn current_context(target: &Target) -> Option<String> {
    load_kubeconfig(target).ok().flatten()?.current_context
}

/// Why the kubeconfig could not be loaded: kube's error, or one of ours with its message.
enum KubeconfigLoadError {
    Kube(kube::config::KubeconfigError),
    Ours(Error),
}

/// The kubeconfig, found as kubectl finds it: `--kubeconfig` (which must exist), else every
/// file of `$KUBECONFIG` that exists, merged (missing entries are skipped, as kubectl does;
/// an error only when none exists), else `~/.kube/config`. `None`: no kubeconfig at all.
fn load_kubeconfig(target: &Target) -> Result<Option<Kubeconfig>, KubeconfigLoadError> {
    if let Some(path) = &target.kubeconfig {
        if !path.exists() {
            return Err(KubeconfigLoadError::Ours(Error::new(
                ErrorKind::Config,
                format!(
                    "failed to load kubeconfig: {} does not exist",
                    path.display()
                ),
            )));
        }
        return Kubeconfig::read_from(path)
            .map(Some)
            .map_err(KubeconfigLoadError::Kube);
    }
    if let Some(value) = std::env::var_os("KUBECONFIG") {
        let listed: Vec<PathBuf> = std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !listed.is_empty() {
            let present: Vec<&PathBuf> = listed.iter().filter(|p| p.exists()).collect();
            if present.is_empty() {
                let names: Vec<String> = listed.iter().map(|p| p.display().to_string()).collect();
                return Err(KubeconfigLoadError::Ours(
                    Error::new(
                        ErrorKind::Config,
                        format!(
                            "failed to load kubeconfig: no file in $KUBECONFIG exists ({})",
                            names.join(", ")
                        ),
                    )
                    .with_hint("set KUBECONFIG to an existing file, or pass --kubeconfig PATH"),
                ));
            }
            let mut merged = Kubeconfig::default();
            for p in present {
                let next = Kubeconfig::read_from(p).map_err(KubeconfigLoadError::Kube)?;
                merged = merged.merge(next).map_err(KubeconfigLoadError::Kube)?;
            }
            return Ok(Some(merged));
        }
    }
    match home_kubeconfig().filter(|p| p.exists()) {
        Some(p) => Kubeconfig::read_from(p)
            .map(Some)
            .map_err(KubeconfigLoadError::Kube),
        None => Ok(None),
    }
}

/// Connect unless this is a client-side dry run. The default namespace still comes from
/// the kubeconfig when one can be loaded.
pub(crate) async fn connect_for(target: &Target, dry_run: DryRun) -> Result<Option<Cluster>> {
    match dry_run {
        DryRun::Client => Ok(None),
        _ => connect(target).await.map(Some),
    }
}

/// The namespace to use: the one given, else the kubeconfig context's, else `default`.
pub(crate) async fn namespace_for(
    target: &Target,
    given: Option<&str>,
    cluster: Option<&Cluster>,
) -> Result<String> {
    let ns = match (given, cluster) {
        (Some(ns), _) => ns.to_owned(),
        (None, Some(c)) => c.default_namespace.clone(),
        (None, None) => match connect(target).await {
            Ok(c) => c.default_namespace,
            Err(_) => "default".to_owned(),
        },
    };
    crate::names::check_namespace(&ns)?;
    Ok(ns)
}
