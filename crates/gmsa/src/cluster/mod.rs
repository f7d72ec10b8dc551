//! Kubernetes: a client from a kubeconfig, kube errors turned into ours, and the generic
//! read / server-side apply / delete of the objects this tool manages.

pub mod access;
pub mod crd;
pub mod objects;
pub mod tls;
pub mod webhook;

use std::path::PathBuf;
use std::time::Duration;

use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::ApiResource;
use kube::{Client, Config};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};

/// The field manager of every write, and the value of our `managed-by` label.
pub const MANAGER: &str = "kubectl-gmsa";
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Annotation on role bindings and cluster roles naming the credential spec they serve.
pub const CREDSPEC_ANNOTATION: &str = "kubectl-gmsa/credspec";

/// Which cluster to talk to, in kubectl's terms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Path of the kubeconfig; default `KUBECONFIG`, then `~/.kube/config`, then in-cluster.
    pub kubeconfig: Option<PathBuf>,
    /// kubeconfig context; default the current context.
    pub context: Option<String>,
    /// Seconds to wait for any one request (connect, read, write). Default 30.
    pub request_timeout_secs: Option<u64>,
}

/// Server-side dry run, client-side (no request at all), or the real thing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DryRun {
    #[default]
    None,
    Client,
    Server,
}

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
    let kubeconfig_error = |e: kube::config::KubeconfigError| {
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
    let mut config = match &target.kubeconfig {
        Some(path) => {
            if !path.exists() {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!(
                        "failed to load kubeconfig: {} does not exist",
                        path.display()
                    ),
                ));
            }
            let kc = Kubeconfig::read_from(path).map_err(kubeconfig_error)?;
            Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(kubeconfig_error)?
        }
        None => {
            let have_file = std::env::var_os("KUBECONFIG").is_some()
                || home_kubeconfig().is_some_and(|p| p.exists());
            if have_file || target.context.is_some() {
                Config::from_kubeconfig(&options)
                    .await
                    .map_err(kubeconfig_error)?
            } else {
                Config::incluster().map_err(|e| {
                    Error::new(ErrorKind::Config, format!("failed to find a kubeconfig: no KUBECONFIG, no ~/.kube/config, and not in a cluster ({e})"))
                        .with_hint("pass --kubeconfig PATH, or set KUBECONFIG")
                })?
            }
        }
    };
    let timeout = Duration::from_secs(target.request_timeout_secs.unwrap_or(30).max(1));
    config.connect_timeout = Some(timeout);
    config.read_timeout = Some(timeout);
    config.write_timeout = Some(timeout);
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

fn api_resource(api_version: &str, kind: &str, plural: &str) -> ApiResource {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        plural: plural.to_owned(),
    }
}

/// The API of a kind across all namespaces (for lists).
pub fn all_api(client: &Client, api_version: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
    Api::all_with(client.clone(), &api_resource(api_version, kind, plural))
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

/// A reference to one object: enough to read, apply or delete it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    /// Lower-case plural, as in RBAC rules and URLs.
    pub plural: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn of(value: &Value, plural: &str) -> ObjectRef {
        ObjectRef {
            api_version: value["apiVersion"].as_str().unwrap_or_default().to_owned(),
            kind: value["kind"].as_str().unwrap_or_default().to_owned(),
            plural: plural.to_owned(),
            namespace: value["metadata"]["namespace"].as_str().map(str::to_owned),
            name: value["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        }
    }

    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map(|(g, _)| g)
            .unwrap_or("")
    }

    /// The API of this object's kind, in its namespace (if any).
    pub fn api(&self, client: &Client) -> Api<DynamicObject> {
        let ar = api_resource(&self.api_version, &self.kind, &self.plural);
        match &self.namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
            None => Api::all_with(client.clone(), &ar),
        }
    }

    /// `kind/name` or `kind/name -n ns`, for messages.
    pub fn display(&self) -> String {
        let kind = self.kind.to_lowercase();
        match &self.namespace {
            Some(ns) => format!("{kind}/{} in namespace {ns}", self.name),
            None => format!("{kind}/{}", self.name),
        }
    }
}

/// Read an object; `None` when it does not exist.
pub async fn get(client: &Client, r: &ObjectRef) -> Result<Option<Value>> {
    let obj = r
        .api(client)
        .get_opt(&r.name)
        .await
        .map_err(|e| classify(e).context(format_args!("read {}", r.display())))?;
    Ok(obj.map(|o| serde_json::to_value(o).expect("objects serialize")))
}

/// Server-side apply with our field manager. `force` takes fields from other managers.
pub async fn apply(
    client: &Client,
    r: &ObjectRef,
    desired: &Value,
    dry_run: bool,
    force: bool,
) -> Result<Value> {
    let mut pp = PatchParams::apply(MANAGER);
    if force {
        pp = pp.force();
    }
    if dry_run {
        pp = pp.dry_run();
    }
    let obj = r
        .api(client)
        .patch(&r.name, &pp, &Patch::Apply(desired))
        .await
        .map_err(|e| {
            let err = classify(e);
            if err.kind == ErrorKind::Conflict {
                Error::new(ErrorKind::Conflict, format!("failed to apply {}: {}", r.display(), err.message))
                    .with_hint("another tool manages these fields; pass --overwrite (or --force) to take them over")
            } else {
                err.context(format_args!("apply {}", r.display()))
            }
        })?;
    Ok(serde_json::to_value(obj).expect("objects serialize"))
}

/// Take over an object another tool made (`--overwrite`): replace it with `desired`, keeping
/// only what the server allocated and will not change, then apply it as ours. A forced apply
/// alone would merge: the other tool's list entries and map keys (a second Service port, an
/// extra selector label) would stay.
pub async fn take_over(
    client: &Client,
    r: &ObjectRef,
    existing: &Value,
    desired: &Value,
    dry_run: bool,
) -> Result<Value> {
    let mut body = desired.clone();
    body["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"].clone();
    if r.kind == "Service" {
        for k in [
            "clusterIP",
            "clusterIPs",
            "ipFamilies",
            "ipFamilyPolicy",
            "healthCheckNodePort",
        ] {
            if let (Some(v), None) = (existing["spec"].get(k), body["spec"].get(k)) {
                body["spec"][k] = v.clone();
            }
        }
    }
    let obj: DynamicObject = serde_json::from_value(body).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("failed to build {}: {e}", r.display()),
        )
    })?;
    let pp = PostParams {
        dry_run,
        field_manager: Some(MANAGER.to_owned()),
    };
    let replaced = r
        .api(client)
        .replace(&r.name, &pp, &obj)
        .await
        .map_err(|e| classify(e).context(format_args!("take over {}", r.display())))?;
    if dry_run {
        // A dry-run apply would run against the stored object, not the replaced one.
        return Ok(serde_json::to_value(replaced).expect("objects serialize"));
    }
    apply(client, r, desired, false, true).await
}

/// Delete an object; `false` when it was already gone.
pub async fn delete(client: &Client, r: &ObjectRef, dry_run: bool) -> Result<bool> {
    let dp = DeleteParams {
        dry_run,
        ..DeleteParams::default()
    };
    match r.api(client).delete(&r.name, &dp).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(e) => Err(classify(e).context(format_args!("delete {}", r.display()))),
    }
}

/// Does `existing` hold everything `desired` says (objects by key, arrays element-wise)?
/// Returns the JSON paths where they differ, empty when `existing` already matches.
pub fn differences(existing: &Value, desired: &Value) -> Vec<String> {
    fn walk(e: &Value, d: &Value, path: &str, out: &mut Vec<String>) {
        match (e, d) {
            (Value::Object(eo), Value::Object(dobj)) => {
                for (k, dv) in dobj {
                    let p = format!("{path}.{k}");
                    match eo.get(k) {
                        Some(ev) => walk(ev, dv, &p, out),
                        None => out.push(p),
                    }
                }
            }
            (Value::Array(ea), Value::Array(da)) => {
                if ea.len() != da.len() {
                    out.push(path.to_owned());
                } else {
                    for (i, (ev, dv)) in ea.iter().zip(da).enumerate() {
                        walk(ev, dv, &format!("{path}[{i}]"), out);
                    }
                }
            }
            (a, b) if a == b => {}
            _ => out.push(path.to_owned()),
        }
    }
    let mut out = vec![];
    walk(existing, desired, "", &mut out);
    out.into_iter()
        .map(|p| p.trim_start_matches('.').to_owned())
        .collect()
}

/// Does this object carry our `managed-by` label?
pub fn is_ours(obj: &Value) -> bool {
    obj["metadata"]["labels"][MANAGED_BY_LABEL].as_str() == Some(MANAGER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_are_subset_based() {
        let existing =
            json!({"metadata": {"name": "a", "uid": "x"}, "rules": [{"verbs": ["use"], "x": 1}]});
        assert!(differences(
            &existing,
            &json!({"metadata": {"name": "a"}, "rules": [{"verbs": ["use"]}]})
        )
        .is_empty());
        assert_eq!(
            differences(
                &existing,
                &json!({"metadata": {"name": "b"}, "rules": [{"verbs": ["use", "get"]}]})
            ),
            vec!["metadata.name", "rules[0].verbs"]
        );
    }
}
