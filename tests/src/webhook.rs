//! Helpers for the webhook installation tests (`install-webhook`, `status`, `rotate-certs`,
//! `uninstall-webhook`, `doctor`): one test install under its own name and namespace, making
//! its Deployment look ready as its controller would, and a stub admission webhook served on
//! the Service's loopback ClusterIP with the key pair from the Secret the Deployment mounts.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{json, Value};

pub use crate::admission::{b64_text, get};
use crate::{admin, gmsa, unique, Run};

/// One test install of the webhook: its `--name` and `-n`.
pub struct Install {
    pub name: String,
    pub ns: String,
}

impl Install {
    /// A name and namespace no other test uses (nothing is installed yet).
    pub fn new() -> Install {
        Install {
            name: unique("wh"),
            ns: unique("whns"),
        }
    }
    /// `CMD --name N -n NS` plus the given arguments.
    pub fn args<'a>(&'a self, cmd: &'a str, more: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec![cmd, "--name", &self.name, "-n", &self.ns];
        v.extend_from_slice(more);
        v
    }
    /// `install-webhook --failure-policy Ignore` plus the given arguments.
    pub fn install(&self, more: &[&str]) -> Run {
        let mut args = vec!["--failure-policy", "Ignore"];
        args.extend_from_slice(more);
        gmsa(&self.args("install-webhook", &args))
    }
    /// Install without waiting (`--failure-policy Ignore`), then make its Deployment look ready.
    pub async fn install_ready(&self) {
        self.install(&["--no-wait"]).ok();
        mark_ready(&self.ns, &self.name).await;
    }
    /// The API path of every object the install makes (namespace and CRD aside).
    pub fn objects(&self) -> Vec<String> {
        let (n, ns) = (&self.name, &self.ns);
        vec![
            format!("/api/v1/namespaces/{ns}/serviceaccounts/{n}"),
            format!("/apis/rbac.authorization.k8s.io/v1/clusterroles/{n}"),
            format!("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{n}"),
            format!("/api/v1/namespaces/{ns}/secrets/{n}-ca"),
            format!("/api/v1/namespaces/{ns}/secrets/{n}-tls"),
            format!("/api/v1/namespaces/{ns}/services/{n}"),
            format!("/apis/apps/v1/namespaces/{ns}/deployments/{n}"),
            format!("/apis/policy/v1beta1/namespaces/{ns}/poddisruptionbudgets/{n}"),
            format!("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/{n}"),
            format!("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/{n}"),
        ]
    }
    /// The API path of the install's object whose path ends with `suffix`.
    pub fn path(&self, suffix: &str) -> String {
        self.objects()
            .into_iter()
            .find(|p| p.ends_with(suffix))
            .unwrap_or_else(|| panic!("no object path ends with {suffix}"))
    }
    /// The install's object whose path ends with `suffix`; panics when it does not exist.
    pub async fn get(&self, suffix: &str) -> Value {
        get(&self.path(suffix))
            .await
            .unwrap_or_else(|| panic!("{suffix} does not exist"))
    }
    /// The install's object of this plural (`secrets`, `deployments`, ...) named `NAME` + `suffix`.
    pub async fn object(&self, plural: &str, suffix: &str) -> Value {
        self.get(&format!("/{plural}/{}{suffix}", self.name)).await
    }
    /// The MutatingWebhookConfiguration.
    pub async fn mutating(&self) -> Value {
        self.object("mutatingwebhookconfigurations", "").await
    }
    /// The ValidatingWebhookConfiguration.
    pub async fn validating(&self) -> Value {
        self.object("validatingwebhookconfigurations", "").await
    }
    /// The Deployment.
    pub async fn deployment(&self) -> Value {
        self.object("deployments", "").await
    }
    /// The serving certificate's Secret (`NAME-tls`).
    pub async fn tls_secret(&self) -> Value {
        self.object("secrets", "-tls").await
    }
    /// The serving certificate's PEM, from the `NAME-tls` Secret.
    pub async fn serving_cert(&self) -> String {
        b64_text(&self.tls_secret().await["data"]["tls.crt"])
    }
    /// Remove what the test made, whatever state it is in (and never fail).
    pub fn cleanup(&self) {
        let _ = gmsa(&self.args("uninstall-webhook", &[]));
    }
}

impl Default for Install {
    fn default() -> Self {
        Install::new()
    }
}

/// Run `kubectl-gmsa ARGS` on a blocking thread, so the test can play the controller meanwhile.
pub fn gmsa_in_background(args: &[&str]) -> tokio::task::JoinHandle<Run> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || gmsa(&args.iter().map(String::as_str).collect::<Vec<_>>()))
}

/// Poll `done` every 100 ms until it is true; panic with `what` after 60 s.
pub async fn wait_until<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..600 {
        if done().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what}");
}

/// The object's resourceVersion.
pub fn rv(v: &Value) -> String {
    v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Text as a Kubernetes `data` value (base64).
pub fn b64(s: &str) -> Value {
    serde_json::to_value(k8s_openapi::ByteString(s.as_bytes().to_vec())).unwrap()
}

/// Mark the Deployment ready, as its controller would.
pub async fn mark_ready(ns: &str, name: &str) {
    let api: Api<Deployment> = Api::namespaced(admin().await, ns);
    let d = api.get(name).await.unwrap();
    let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let status = json!({ "status": {
        "observedGeneration": d.metadata.generation,
        "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas
    }});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
}

/// Put `ca_pem` as the CA bundle of the first webhook of MutatingWebhookConfiguration `name`.
pub async fn replace_ca_bundle(name: &str, ca_pem: &str) {
    let path =
        format!("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/{name}");
    let m = get(&path).await.expect("the configuration exists");
    let mut hooks = m["webhooks"].clone();
    hooks[0]["clientConfig"]["caBundle"] = b64(ca_pem);
    let api: Api<kube::api::DynamicObject> = Api::all_with(
        admin().await,
        &kube::core::ApiResource {
            group: "admissionregistration.k8s.io".into(),
            version: "v1".into(),
            api_version: "admissionregistration.k8s.io/v1".into(),
            kind: "MutatingWebhookConfiguration".into(),
            plural: "mutatingwebhookconfigurations".into(),
        },
    );
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "webhooks": hooks })),
    )
    .await
    .unwrap();
}

/// A gMSA pod naming the example credential spec `webapp01`, run as `default`.
pub fn webapp01_pod(name: &str) -> Pod {
    crate::admission::gmsa_pod(
        name,
        "default",
        json!({ "gmsaCredentialSpecName": "webapp01" }),
    )
}

/// The ring crypto provider for rustls.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A rustls server config from PEM files, as the webhook container reads them (TLS_CRT, TLS_KEY).
pub fn server_config(crt_path: &Path, key_path: &Path) -> Arc<rustls::ServerConfig> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(crt_path)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(key_path).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    Arc::new(config)
}

/// Write the Secret's `tls.crt` and `tls.key` to files, the way the Deployment mounts it.
pub fn mount_secret(secret: &Value, dir: &Path) -> (PathBuf, PathBuf) {
    let crt = dir.join("tls.crt");
    let key = dir.join("tls.key");
    std::fs::write(&crt, b64_text(&secret["data"]["tls.crt"])).unwrap();
    std::fs::write(&key, b64_text(&secret["data"]["tls.key"])).unwrap();
    (crt, key)
}

/// One admission request the stub webhook saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub namespace: String,
    pub pod: String,
    pub operation: String,
}

/// A stub admission webhook serving an install's Secret on its Service's loopback ClusterIP,
/// port 443. Stops when dropped.
pub struct StubWebhook {
    /// What it was asked, in order.
    pub seen: Arc<Mutex<Vec<Seen>>>,
    server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl StubWebhook {
    /// Serve a stub webhook for `w` on the Service's ClusterIP (asserted to be loopback), :443.
    pub async fn serve(w: &Install) -> StubWebhook {
        let svc = w.object("services", "").await;
        let ip = svc["spec"]["clusterIP"].as_str().unwrap().to_owned();
        assert!(
            ip.starts_with("127."),
            "the test cluster's ClusterIPs are loopback: {ip}"
        );
        let dir = tempfile::tempdir().unwrap();
        let (crt, key) = mount_secret(&w.tls_secret().await, dir.path());
        let listener = tokio::net::TcpListener::bind((ip.as_str(), 443))
            .await
            .expect("bind the ClusterIP:443");
        let seen = Arc::new(Mutex::new(vec![]));
        let server = tokio::spawn(serve_admission(
            listener,
            server_config(&crt, &key),
            seen.clone(),
        ));
        StubWebhook {
            seen,
            server,
            _dir: dir,
        }
    }
    /// Was it called at `path` for pod `pod` in namespace `ns`?
    pub fn called(&self, ns: &str, pod: &str, path: &str) -> bool {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .any(|s| s.namespace == ns && s.pod == pod && s.path == path)
    }
    /// A copy of what it saw so far.
    pub fn seen_now(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for StubWebhook {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A minimal admission webhook: TLS with the given config, answers every AdmissionReview
/// with `allowed: true` (but refuses, as the real webhook does, a pod naming a credential
/// spec that does not exist: install-webhook's probe), and records what it was asked.
pub async fn serve_admission(
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    seen: Arc<Mutex<Vec<Seen>>>,
) {
    use http_body_util::{BodyExt, Full};
    use hyper::body::{Bytes, Incoming};
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let acceptor = acceptor.clone();
        let seen = seen.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let seen = seen.clone();
                async move {
                    let path = req.uri().path().to_owned();
                    let body = req
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    let review: Value = serde_json::from_slice(&body).unwrap_or_default();
                    let answer = answer(&review, path, &seen);
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from(
                        answer.to_string(),
                    ))))
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .await;
        });
    }
}

/// The stub's answer to one AdmissionReview, recording it in `seen`.
fn answer(review: &Value, path: String, seen: &Mutex<Vec<Seen>>) -> Value {
    let r = &review["request"];
    seen.lock().unwrap().push(Seen {
        path,
        namespace: r["namespace"].as_str().unwrap_or_default().to_owned(),
        pod: r["name"]
            .as_str()
            .or(r["object"]["metadata"]["name"].as_str())
            .unwrap_or_default()
            .to_owned(),
        operation: r["operation"].as_str().unwrap_or_default().to_owned(),
    });
    let spec = r["object"]["spec"]["securityContext"]["windowsOptions"]["gmsaCredentialSpecName"]
        .as_str()
        .unwrap_or_default();
    let response = if spec.starts_with(gmsa::ops::PROBE_CREDSPEC_PREFIX) {
        json!({ "uid": r["uid"], "allowed": false, "status": {
            "code": 404, "message": format!("cannot retrieve GMSA credential spec {spec}") } })
    } else {
        json!({ "uid": r["uid"], "allowed": true })
    };
    json!({
        "apiVersion": review["apiVersion"].as_str().unwrap_or("admission.k8s.io/v1"),
        "kind": "AdmissionReview",
        "response": response
    })
}
