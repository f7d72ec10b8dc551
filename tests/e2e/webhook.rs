//! `install-webhook`, `status`, `rotate-certs` and `uninstall-webhook` against the real test
//! API server, including the real admission path: a small TLS admission server of our own,
//! on the webhook Service's loopback ClusterIP, serving the key and certificate from the
//! Secret the Deployment mounts, called by the API server through the installed
//! configuration. Every install here uses its own --name and --namespace and
//! `--failure-policy Ignore`, so other tests' pods are never blocked.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gmsa_tests::*;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, Patch, PatchParams, PostParams};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::{json, Value};

// ---------------------------------------------------------------- helpers

pub(crate) struct Install {
    pub(crate) name: String,
    pub(crate) ns: String,
}

impl Install {
    pub(crate) fn new() -> Install {
        Install {
            name: unique("wh"),
            ns: unique("whns"),
        }
    }
    /// `--name N -n NS` plus the given arguments.
    pub(crate) fn args<'a>(&'a self, cmd: &'a str, more: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec![cmd, "--name", &self.name, "-n", &self.ns];
        v.extend_from_slice(more);
        v
    }
    pub(crate) fn install(&self, more: &[&str]) -> Run {
        let mut args = vec!["--failure-policy", "Ignore"];
        args.extend_from_slice(more);
        gmsa(&self.args("install-webhook", &args))
    }
    /// Every object the install makes (namespace and CRD aside): (api path prefix, plural, namespaced, name).
    pub(crate) fn objects(&self) -> Vec<String> {
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
    pub(crate) fn path(&self, suffix: &str) -> String {
        self.objects()
            .into_iter()
            .find(|p| p.ends_with(suffix))
            .unwrap_or_else(|| panic!("no object path ends with {suffix}"))
    }
    pub(crate) async fn get(&self, suffix: &str) -> Value {
        get(&self.path(suffix))
            .await
            .unwrap_or_else(|| panic!("{suffix} does not exist"))
    }
    /// Remove what the test made, whatever state it is in (and never fail).
    pub(crate) fn cleanup(&self) {
        let _ = gmsa(&self.args("uninstall-webhook", &[]));
    }
}

/// GET an API path as admin; `None` on 404.
pub(crate) async fn get(path: &str) -> Option<Value> {
    let req = http::Request::get(path).body(vec![]).unwrap();
    match admin().await.request_text(req).await {
        Ok(text) => Some(serde_json::from_str(&text).unwrap()),
        Err(kube::Error::Api(s)) if s.code == 404 => None,
        Err(e) => panic!("GET {path}: {e}"),
    }
}

pub(crate) fn rv(v: &Value) -> String {
    v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn b64_text(v: &Value) -> String {
    let bytes: k8s_openapi::ByteString = serde_json::from_value(v.clone()).unwrap();
    String::from_utf8(bytes.0).unwrap()
}

fn b64(s: &str) -> Value {
    serde_json::to_value(k8s_openapi::ByteString(s.as_bytes().to_vec())).unwrap()
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A rustls server config from PEM files, as the webhook container reads them (TLS_CRT, TLS_KEY).
pub(crate) fn server_config(
    crt_path: &std::path::Path,
    key_path: &std::path::Path,
) -> Arc<rustls::ServerConfig> {
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
pub(crate) fn mount_secret(
    secret: &Value,
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let crt = dir.join("tls.crt");
    let key = dir.join("tls.key");
    std::fs::write(&crt, b64_text(&secret["data"]["tls.crt"])).unwrap();
    std::fs::write(&key, b64_text(&secret["data"]["tls.key"])).unwrap();
    (crt, key)
}

/// One admission request the test server saw.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    path: String,
    namespace: String,
    pod: String,
    operation: String,
}

/// A minimal admission webhook: TLS with the given config, answers every AdmissionReview
/// with `allowed: true` (but refuses, as the real webhook does, a pod naming a credential
/// spec that does not exist: install-webhook's probe), and records what it was asked.
pub(crate) async fn serve_admission(
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
                    let spec = r["object"]["spec"]["securityContext"]["windowsOptions"]
                        ["gmsaCredentialSpecName"]
                        .as_str()
                        .unwrap_or_default();
                    let response = if spec.starts_with(gmsa::ops::PROBE_CREDSPEC_PREFIX) {
                        json!({ "uid": r["uid"], "allowed": false, "status": {
                            "code": 404, "message": format!("cannot retrieve GMSA credential spec {spec}") } })
                    } else {
                        json!({ "uid": r["uid"], "allowed": true })
                    };
                    let answer = json!({
                        "apiVersion": review["apiVersion"].as_str().unwrap_or("admission.k8s.io/v1"),
                        "kind": "AdmissionReview",
                        "response": response
                    });
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

pub(crate) fn gmsa_pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": { "name": name },
        "spec": {
            "automountServiceAccountToken": false,
            "securityContext": { "windowsOptions": { "gmsaCredentialSpecName": "webapp01" } },
            "containers": [{ "name": "app", "image": "mcr.microsoft.com/windows/servercore:ltsc2022" }]
        }
    }))
    .unwrap()
}

pub(crate) async fn create_namespace(labels: Value) -> String {
    let name = unique("whpods");
    let ns: Namespace =
        serde_json::from_value(json!({ "metadata": { "name": name, "labels": labels } })).unwrap();
    Api::<Namespace>::all(admin().await)
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    name
}

/// Mark the Deployment ready, as its controller would.
pub(crate) async fn mark_ready(ns: &str, name: &str) {
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

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_writes_every_object_and_rerun_changes_nothing() {
    let w = Install::new();
    let run = w.install(&["--no-wait"]);
    run.ok();
    assert!(
        run.stdout
            .contains(&format!("deployment.apps/{} -n {} created", w.name, w.ns)),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("certificate issued (new CA)"),
        "{}",
        run.stdout
    );

    // The CRD, served.
    let crd = get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gmsacredentialspecs.windows.k8s.io").await.unwrap();
    assert_eq!(crd["spec"]["scope"], "Cluster");
    // The namespace, ours and skipped by the webhooks.
    let ns = get(&format!("/api/v1/namespaces/{}", w.ns)).await.unwrap();
    assert_eq!(
        ns["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "kubectl-gmsa"
    );
    assert_eq!(ns["metadata"]["labels"]["kubectl-gmsa/webhook"], "disabled");
    // RBAC: get credential specs, create local subject access reviews, bound to the SA.
    let role = w.get(&format!("/clusterroles/{}", w.name)).await;
    let rules = role["rules"].as_array().unwrap();
    assert!(rules
        .iter()
        .any(|r| r["resources"] == json!(["gmsacredentialspecs"]) && r["verbs"] == json!(["get"])));
    assert!(rules
        .iter()
        .any(|r| r["resources"] == json!(["localsubjectaccessreviews"])
            && r["verbs"] == json!(["create"])));
    let binding = get(&format!(
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{}",
        w.name
    ))
    .await
    .unwrap();
    assert_eq!(
        binding["subjects"][0],
        json!({ "kind": "ServiceAccount", "name": w.name, "namespace": w.ns })
    );
    // The Deployment: upstream image, TLS paths, Linux, two replicas, a PDB.
    let d = w.get(&format!("/deployments/{}", w.name)).await;
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(
        pod["containers"][0]["image"],
        "registry.k8s.io/gmsa-webhook/k8s-gmsa-webhook:v0.13.0"
    );
    assert_eq!(pod["nodeSelector"]["kubernetes.io/os"], "linux");
    let env = &pod["containers"][0]["env"];
    assert!(env
        .as_array()
        .unwrap()
        .contains(&json!({ "name": "TLS_CRT", "value": "/tls/tls.crt" })));
    assert_eq!(
        pod["containers"][0]["readinessProbe"]["httpGet"]["path"],
        "/health"
    );
    assert_eq!(
        pod["volumes"][0]["secret"]["secretName"],
        format!("{}-tls", w.name)
    );
    assert!(pod["affinity"]["podAntiAffinity"].is_object());
    let pdb = w.get(&format!("/poddisruptionbudgets/{}", w.name)).await;
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    // The Service on 443.
    let svc = w.get(&format!("/services/{}", w.name)).await;
    assert_eq!(svc["spec"]["ports"][0]["port"], 443);
    // The webhook configurations.
    let m = w
        .get(&format!("/mutatingwebhookconfigurations/{}", w.name))
        .await;
    let v = w
        .get(&format!("/validatingwebhookconfigurations/{}", w.name))
        .await;
    assert_eq!(
        m["webhooks"][0]["clientConfig"]["service"]["path"],
        "/mutate"
    );
    assert_eq!(
        m["webhooks"][0]["rules"][0]["operations"],
        json!(["CREATE"])
    );
    assert_eq!(
        v["webhooks"][0]["clientConfig"]["service"]["path"],
        "/validate"
    );
    assert_eq!(
        v["webhooks"][0]["rules"][0]["operations"],
        json!(["CREATE", "UPDATE"])
    );
    assert_eq!(m["webhooks"][0]["failurePolicy"], "Ignore");
    // 1.20 knows no matchConditions: none was sent.
    assert!(m["webhooks"][0].get("matchConditions").is_none());

    // The CA bundle verifies the Secret's certificate for <name>.<ns>.svc: a real TLS
    // handshake, the server using the Secret as mounted, the client trusting only the bundle.
    let secret = w.get(&format!("/secrets/{}-tls", w.name)).await;
    assert_eq!(secret["type"], "kubernetes.io/tls");
    let dir = tempfile::tempdir().unwrap();
    let (crt, key) = mount_secret(&secret, dir.path());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve_admission(
        listener,
        server_config(&crt, &key),
        Arc::new(Mutex::new(vec![])),
    ));
    let bundle = b64_text(&v["webhooks"][0]["clientConfig"]["caBundle"]);
    let handshake = |server_name: String| {
        let bundle = bundle.clone();
        async move {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(bundle.as_bytes()) {
                roots.add(c.unwrap()).unwrap();
            }
            let config = rustls::ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            tokio_rustls::TlsConnector::from(Arc::new(config))
                .connect(ServerName::try_from(server_name).unwrap(), tcp)
                .await
                .map(|_| ())
        }
    };
    handshake(format!("{}.{}.svc", w.name, w.ns))
        .await
        .expect("the CA bundle verifies the serving certificate for <name>.<ns>.svc");
    assert!(
        handshake(format!("{}.other.svc", w.name)).await.is_err(),
        "a name not in the certificate must fail"
    );

    // Re-run: every object unchanged, not one resourceVersion moved.
    let mut before = BTreeMap::new();
    for p in w.objects() {
        before.insert(
            p.clone(),
            rv(&get(&p).await.unwrap_or_else(|| panic!("{p} missing"))),
        );
    }
    let again = w.install(&["--no-wait"]);
    again.ok();
    assert!(
        !again.stdout.contains(" created") && !again.stdout.contains(" configured"),
        "{}",
        again.stdout
    );
    assert!(
        again.stdout.contains("certificate kept"),
        "{}",
        again.stdout
    );
    for (p, old) in &before {
        assert_eq!(&rv(&get(p).await.unwrap()), old, "{p} was written again");
    }

    // Upgrade: a new image rolls the Deployment, nothing else changes.
    let up = w.install(&["--no-wait", "--image", "registry.example/gmsa-webhook:v9"]);
    up.ok();
    assert!(
        up.stdout.contains(&format!(
            "deployment.apps/{} -n {} configured",
            w.name, w.ns
        )),
        "{}",
        up.stdout
    );
    let d = w.get(&format!("/deployments/{}", w.name)).await;
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example/gmsa-webhook:v9"
    );
    assert_eq!(
        rv(&w.get(&format!("/secrets/{}-tls", w.name)).await),
        before[&w.path("-tls")]
    );

    // A dry run of the uninstall deletes nothing.
    let dry = gmsa(&w.args("uninstall-webhook", &["--dry-run=server"]));
    dry.ok();
    assert!(
        dry.stdout.contains("deleted (server dry run)"),
        "{}",
        dry.stdout
    );
    for p in w.objects() {
        assert!(get(&p).await.is_some(), "{p} was deleted by a dry run");
    }

    // Uninstall leaves nothing of ours; the CRD stays.
    let un = gmsa(&w.args("uninstall-webhook", &[]));
    un.ok();
    for p in w.objects() {
        assert!(
            get(&p).await.is_none(),
            "{p} is left after uninstall-webhook"
        );
    }
    let ns = get(&format!("/api/v1/namespaces/{}", w.ns)).await;
    assert!(
        ns.is_none_or(|n| n["metadata"]["deletionTimestamp"].is_string()),
        "the namespace was not deleted"
    );
    assert!(get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gmsacredentialspecs.windows.k8s.io").await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_server_calls_the_installed_webhook_for_gmsa_pods_but_not_in_excluded_namespaces() {
    let w = Install::new();
    w.install(&["--no-wait"]).ok();
    // Clean up even when an assertion fails.
    let outcome = tokio::spawn(webhook_path(w.name.clone(), w.ns.clone())).await;
    w.cleanup();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn webhook_path(name: String, ns: String) {
    let w = Install { name, ns };
    {
        // Serve the Secret's certificate on the Service's loopback ClusterIP, port 443.
        let svc = w.get(&format!("/services/{}", w.name)).await;
        let ip = svc["spec"]["clusterIP"].as_str().unwrap().to_owned();
        assert!(
            ip.starts_with("127."),
            "the test cluster's ClusterIPs are loopback: {ip}"
        );
        let secret = w.get(&format!("/secrets/{}-tls", w.name)).await;
        let dir = tempfile::tempdir().unwrap();
        let (crt, key) = mount_secret(&secret, dir.path());
        let listener = tokio::net::TcpListener::bind((ip.as_str(), 443))
            .await
            .expect("bind the ClusterIP:443");
        let seen = Arc::new(Mutex::new(vec![]));
        let server = tokio::spawn(serve_admission(
            listener,
            server_config(&crt, &key),
            seen.clone(),
        ));

        let plain = create_namespace(json!({})).await;
        let opted_out = create_namespace(json!({ "kubectl-gmsa/webhook": "disabled" })).await;
        let client = admin().await;
        let called = |ns: &str, pod: &str, path: &str| {
            seen.lock()
                .unwrap()
                .iter()
                .any(|s| s.namespace == ns && s.pod == pod && s.path == path)
        };

        // The API server picks the configuration up shortly after it is written: create
        // gMSA pods until one reaches our server (each try a new pod).
        let mut first = None;
        for i in 0..120 {
            let name = format!("gmsa-{i}");
            Api::<Pod>::namespaced(client.clone(), &plain)
                .create(&PostParams::default(), &gmsa_pod(&name))
                .await
                .unwrap();
            if called(&plain, &name, "/mutate") {
                first = Some(name);
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let first = first.expect("the API server never called the webhook for a gMSA pod");
        assert!(
            called(&plain, &first, "/validate"),
            "the validating webhook was not called: {:?}",
            seen.lock().unwrap()
        );

        // Excluded: a namespace labelled kubectl-gmsa/webhook=disabled, and the webhook's own.
        for ns in [&opted_out, &w.ns] {
            Api::<Pod>::namespaced(client.clone(), ns)
                .create(&PostParams::default(), &gmsa_pod("excluded"))
                .await
                .unwrap();
        }
        // And the configuration is still in force right after.
        Api::<Pod>::namespaced(client.clone(), &plain)
            .create(&PostParams::default(), &gmsa_pod("after"))
            .await
            .unwrap();
        assert!(
            called(&plain, "after", "/mutate"),
            "the webhook stopped being called"
        );
        let seen_now = seen.lock().unwrap().clone();
        assert!(
            !seen_now.iter().any(|s| s.namespace == opted_out),
            "called for an opted-out namespace: {seen_now:?}"
        );
        assert!(
            !seen_now.iter().any(|s| s.namespace == w.ns),
            "called for the webhook's own namespace: {seen_now:?}"
        );
        assert!(seen_now
            .iter()
            .filter(|s| s.pod == first)
            .all(|s| s.operation == "CREATE"));
        server.abort();
        for ns in [&plain, &opted_out] {
            let _ = Api::<Namespace>::all(client.clone())
                .delete(ns, &Default::default())
                .await;
        }
    }
}

#[tokio::test]
async fn dry_runs_write_nothing_and_never_show_a_key() {
    let w = Install::new();
    let client_run = w.install(&["--dry-run=client", "-o", "yaml"]);
    client_run.ok();
    let out = &client_run.stdout;
    for kind in [
        "CustomResourceDefinition",
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Secret",
        "Service",
        "Deployment",
        "PodDisruptionBudget",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ] {
        assert!(
            out.contains(&format!("kind: {kind}\n")),
            "{kind} not rendered"
        );
    }
    assert!(!out.contains("PRIVATE KEY"), "a private key was printed");
    assert!(out.contains("REDACTED"));
    // Rendered for the newest API by default: match conditions present; not for 1.27.
    assert!(out.contains("matchConditions"));
    let old = w.install(&["--dry-run=client", "-o", "json", "--kube-version", "1.27"]);
    old.ok();
    assert!(!old.stdout.contains("matchConditions"));
    assert!(old.stdout.contains("\"policy/v1\""));

    let server_run = w.install(&["--dry-run=server"]);
    server_run.ok();
    assert!(
        server_run.stdout.contains("(server dry run)"),
        "{}",
        server_run.stdout
    );
    assert!(!server_run.stdout.contains("PRIVATE KEY"));
    for p in w.objects() {
        assert!(get(&p).await.is_none(), "{p} was written by a dry run");
    }
    assert!(get(&format!("/api/v1/namespaces/{}", w.ns)).await.is_none());
}

#[tokio::test]
async fn status_tells_healthy_from_unhealthy() {
    let w = Install::new();
    w.install(&["--no-wait"]).ok();

    // Not ready yet: unhealthy, exit 10.
    let s = gmsa(&w.args("status", &[]));
    assert_eq!(s.code, 10, "{s:?}");
    assert!(s.stdout.contains("0 of 2 replicas ready"), "{}", s.stdout);

    mark_ready(&w.ns, &w.name).await;
    let s = gmsa(&w.args("status", &["-o", "json"]));
    assert_eq!(s.code, 0, "{s:?}");
    let j: Value = serde_json::from_str(&s.stdout).unwrap();
    assert_eq!(j["healthy"], true);
    assert_eq!(j["deployment"]["ready"], 2);
    assert!(j["crd"]["served_versions"]
        .as_array()
        .unwrap()
        .contains(&json!("v1")));
    assert_eq!(j["webhooks"][0]["failure_policy"], "Ignore");
    assert_eq!(j["webhooks"][1]["ca_bundle_verifies"], true);
    assert!(j["certificate"]["days_left"].as_i64().unwrap() > 300);
    assert!(j["credential_specs"].is_u64());

    // A CA bundle that does not match.
    let other = gmsa::cluster::tls::generate_ca("other", Duration::from_secs(86_400)).unwrap();
    let m = w
        .get(&format!("/mutatingwebhookconfigurations/{}", w.name))
        .await;
    let mut hooks = m["webhooks"].clone();
    hooks[0]["clientConfig"]["caBundle"] = b64(&other.cert_pem);
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
        &w.name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "webhooks": hooks })),
    )
    .await
    .unwrap();
    let s = gmsa(&w.args("status", &[]));
    assert_eq!(s.code, 10, "{s:?}");
    assert!(s.stdout.contains("did not sign"), "{}", s.stdout);
    // install-webhook repairs it.
    w.install(&["--no-wait"]).ok();
    assert_eq!(gmsa(&w.args("status", &[])).code, 0);

    // An expired certificate (signed by the right CA).
    let ca_secret = w.get(&format!("/secrets/{}-ca", w.name)).await;
    let ca = gmsa::cluster::tls::KeyedCert {
        cert_pem: b64_text(&ca_secret["data"]["tls.crt"]),
        key_pem: b64_text(&ca_secret["data"]["tls.key"]),
    };
    let dns = gmsa::cluster::tls::service_dns_names(&w.name, &w.ns);
    let expired = gmsa::cluster::tls::issue_serving(&ca, &dns, Duration::ZERO).unwrap();
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(admin().await, &w.ns);
    let patch =
        json!({ "data": { "tls.crt": b64(&expired.cert_pem), "tls.key": b64(&expired.key_pem) } });
    secrets
        .patch(
            &format!("{}-tls", w.name),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await; // so "now" is past its notAfter
    let s = gmsa(&w.args("status", &[]));
    assert_eq!(s.code, 10, "{s:?}");
    assert!(s.stdout.contains("certificate expired"), "{}", s.stdout);
    // Re-running the install renews it.
    let again = w.install(&["--no-wait"]);
    assert!(
        again.stdout.contains("certificate issued"),
        "{}",
        again.stdout
    );
    mark_ready(&w.ns, &w.name).await; // the new certificate rolled the pods
    assert_eq!(gmsa(&w.args("status", &[])).code, 0);

    // A missing Deployment.
    Api::<Deployment>::namespaced(admin().await, &w.ns)
        .delete(&w.name, &Default::default())
        .await
        .unwrap();
    let s = gmsa(&w.args("status", &[]));
    assert_eq!(s.code, 10, "{s:?}");
    assert!(
        s.stdout
            .contains(&format!("deployment/{} does not exist", w.name)),
        "{}",
        s.stdout
    );
    w.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_waits_for_the_deployment_to_be_ready() {
    let w = Install::new();
    let args: Vec<String> = w
        .args(
            "install-webhook",
            &["--failure-policy", "Ignore", "--timeout", "10m"],
        )
        .iter()
        .map(|s| s.to_string())
        .collect();
    let run = tokio::task::spawn_blocking(move || {
        gmsa(&args.iter().map(String::as_str).collect::<Vec<_>>())
    });
    // Play the controller: once the Deployment exists, report it ready.
    let api: Api<Deployment> = Api::namespaced(admin().await, &w.ns);
    let mut tries = 0;
    while api.get_opt(&w.name).await.ok().flatten().is_none() {
        tries += 1;
        assert!(tries < 600, "the Deployment never appeared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    mark_ready(&w.ns, &w.name).await;
    let run = run.await.unwrap();
    run.ok();
    assert!(
        run.stdout.contains("webhook ready: 2/2 replicas"),
        "{}",
        run.stdout
    );
    // Without a terminal, progress is plain lines on stderr.
    assert!(run.stderr.contains("replicas ready"), "{}", run.stderr);
    w.cleanup();
}

#[tokio::test]
async fn install_timeout_says_what_is_not_ready_and_why() {
    let w = Install::new();
    // The namespace exists already (not ours), with a warning event about the Deployment.
    let ns: Namespace = serde_json::from_value(json!({ "metadata": { "name": w.ns } })).unwrap();
    Api::<Namespace>::all(admin().await)
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    let event: k8s_openapi::api::core::v1::Event = serde_json::from_value(json!({
        "metadata": { "name": format!("{}.quota", w.name), "namespace": w.ns },
        "involvedObject": { "kind": "ReplicaSet", "name": format!("{}-5d8f7c", w.name), "namespace": w.ns },
        "type": "Warning",
        "reason": "FailedCreate",
        "message": "pods is forbidden: exceeded quota: compute-resources"
    }))
    .unwrap();
    Api::<k8s_openapi::api::core::v1::Event>::namespaced(admin().await, &w.ns)
        .create(&PostParams::default(), &event)
        .await
        .unwrap();

    let run = w.install(&["--timeout", "2s"]);
    assert_eq!(run.code, 7, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "0 of 2 replicas of deployment/{} in namespace {} ready",
            w.name, w.ns
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("exceeded quota: compute-resources"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--no-wait"), "{}", run.stderr);

    // The namespace was not ours: uninstall keeps it.
    let un = gmsa(&w.args("uninstall-webhook", &[]));
    un.ok();
    assert!(
        un.stdout.contains(&format!("namespace/{} skipped", w.ns)),
        "{}",
        un.stdout
    );
    let ns = get(&format!("/api/v1/namespaces/{}", w.ns)).await.unwrap();
    assert!(ns["metadata"]["deletionTimestamp"].is_null());
    let _ = Api::<Namespace>::all(admin().await)
        .delete(&w.ns, &Default::default())
        .await;
}

#[tokio::test]
async fn purge_is_refused_while_credential_specs_exist() {
    install_crd().await;
    let w = Install::new();
    w.install(&["--no-wait"]).ok();
    // A credential spec of our own, so that at least one exists.
    let spec = unique("spec");
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(example("credspecs/webapp01-domain-joined.json")).unwrap(),
    )
    .unwrap();
    let resource = json!({ "apiVersion": "windows.k8s.io/v1", "kind": "GMSACredentialSpec", "metadata": { "name": spec }, "credspec": doc });
    let specs: Api<kube::api::DynamicObject> = Api::all_with(
        admin().await,
        &kube::core::ApiResource {
            group: "windows.k8s.io".into(),
            version: "v1".into(),
            api_version: "windows.k8s.io/v1".into(),
            kind: "GMSACredentialSpec".into(),
            plural: "gmsacredentialspecs".into(),
        },
    );
    specs
        .create(
            &PostParams::default(),
            &serde_json::from_value(resource).unwrap(),
        )
        .await
        .unwrap();
    let run = gmsa(&w.args("uninstall-webhook", &["--purge"]));
    assert_eq!(run.code, 4, "{run:?}");
    assert!(
        run.stderr.contains("credential spec(s) exist"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    // Nothing was deleted.
    for p in w.objects() {
        assert!(
            get(&p).await.is_some(),
            "{p} was deleted by a refused purge"
        );
    }
    assert!(
        gmsa(&["uninstall-webhook", "--force"]).code != 0,
        "--force without --purge must be refused"
    );
    specs.delete(&spec, &Default::default()).await.unwrap();
    w.cleanup();
}

#[tokio::test]
async fn rotate_certs_renews_and_keeps_both_cas_during_the_roll() {
    let w = Install::new();
    w.install(&["--no-wait"]).ok();
    let old_secret = w.get(&format!("/secrets/{}-tls", w.name)).await;
    let old_cert = b64_text(&old_secret["data"]["tls.crt"]);
    let old_serial = gmsa::cluster::tls::inspect(&old_cert).unwrap().serial;

    let run = gmsa(&w.args("rotate-certs", &["--new-ca", "--no-wait", "-o", "json"]));
    run.ok();
    // -o json: a v1 List of the objects written (as every write command prints), the
    // certificate line on stderr.
    let o: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(o["kind"], "List", "{o:#}");
    let written: Vec<String> = o["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{}/{}",
                i["kind"].as_str().unwrap(),
                i["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    for want in [
        format!("Secret/{}-tls", w.name),
        format!("MutatingWebhookConfiguration/{}", w.name),
        format!("ValidatingWebhookConfiguration/{}", w.name),
    ] {
        assert!(written.contains(&want), "{want} not in {written:?}");
    }
    assert!(!run.stdout.contains("managedFields"), "{}", run.stdout);
    assert!(run.stderr.contains("issued (new CA)"), "{}", run.stderr);
    let new_cert = b64_text(&w.get(&format!("/secrets/{}-tls", w.name)).await["data"]["tls.crt"]);
    let new_serial = gmsa::cluster::tls::inspect(&new_cert).unwrap().serial;
    assert_ne!(old_serial, new_serial);
    // The bundle trusts old and new, so pods on either certificate are accepted.
    let m = w
        .get(&format!("/mutatingwebhookconfigurations/{}", w.name))
        .await;
    let bundle = b64_text(&m["webhooks"][0]["clientConfig"]["caBundle"]);
    let server_name = format!("{}.{}.svc", w.name, w.ns);
    let now = gmsa::cluster::tls::now();
    gmsa::cluster::tls::verify(&bundle, &old_cert, &server_name, now)
        .expect("old certificate still trusted");
    gmsa::cluster::tls::verify(&bundle, &new_cert, &server_name, now)
        .expect("new certificate trusted");
    // The pods restart.
    let d = w.get(&format!("/deployments/{}", w.name)).await;
    assert_eq!(
        d["spec"]["template"]["metadata"]["annotations"]["kubectl-gmsa/certificate-serial"],
        new_serial.as_str()
    );
    // Re-running install after a rotation changes nothing.
    let again = w.install(&["--no-wait"]);
    assert!(
        !again.stdout.contains(" configured") && !again.stdout.contains(" created"),
        "{}",
        again.stdout
    );
    w.cleanup();
}

#[tokio::test]
async fn bad_input_writes_nothing_and_explains_itself() {
    let w = Install::new();
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["--failure-policy", "Sometimes"],
            2,
            "invalid value 'Sometimes'",
        ),
        (
            vec!["--image", "Registry/UPPER CASE:1"],
            2,
            "invalid image reference",
        ),
        (vec!["--replicas", "0"], 2, "at least 1"),
        (vec!["--cert-validity", "10d"], 2, "renewed on every run"),
    ];
    for (extra, code, text) in cases {
        let mut args = w.args("install-webhook", &extra);
        args.push("--no-wait");
        let run = gmsa(&args);
        assert_eq!(run.code, code, "{extra:?}: {run:?}");
        assert!(run.stderr.contains(text), "{extra:?}: {}", run.stderr);
    }
    let bad_name = gmsa(&["install-webhook", "--name", "Bad_Name", "-n", &w.ns]);
    assert_eq!(bad_name.code, 2);
    assert!(
        bad_name.stderr.contains("invalid webhook name"),
        "{}",
        bad_name.stderr
    );

    // No permission: alice has no RBAC at all.
    let alice = gmsa(&w.args("install-webhook", &["--context", "alice", "--no-wait"]));
    assert_eq!(alice.code, 5, "{alice:?}");
    assert!(
        alice.stderr.contains("nothing was changed"),
        "{}",
        alice.stderr
    );

    // Unreachable server.
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:9\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: x\ncurrent-context: c\n").unwrap();
    let mut args = vec!["--kubeconfig", kc.to_str().unwrap()];
    args.extend(w.args("install-webhook", &["--no-wait"]));
    let run = gmsa_plain(&args);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(
        run.stderr.contains("could not be reached"),
        "{}",
        run.stderr
    );

    // --cert-manager on a cluster without cert-manager.
    let cm = gmsa(&w.args("install-webhook", &["--cert-manager", "--no-wait"]));
    assert_eq!(cm.code, 3, "{cm:?}");
    assert!(
        cm.stderr.contains("does not serve cert-manager.io/v1")
            && cm.stderr.contains("nothing was changed"),
        "{}",
        cm.stderr
    );

    for p in w.objects() {
        assert!(get(&p).await.is_none(), "{p} was written despite bad input");
    }
    assert!(get(&format!("/api/v1/namespaces/{}", w.ns)).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_certs_with_a_new_ca_drops_the_old_one_once_the_pods_are_ready() {
    let w = Install::new();
    w.install(&["--no-wait"]).ok();
    let d = w.get(&format!("/deployments/{}", w.name)).await;
    let old_serial = d["spec"]["template"]["metadata"]["annotations"]
        ["kubectl-gmsa/certificate-serial"]
        .as_str()
        .unwrap()
        .to_owned();
    let args: Vec<String> = w
        .args("rotate-certs", &["--new-ca", "--timeout", "10m"])
        .iter()
        .map(|s| s.to_string())
        .collect();
    let run = tokio::task::spawn_blocking(move || {
        gmsa(&args.iter().map(String::as_str).collect::<Vec<_>>())
    });
    // Play the controller: once the restart is requested, report the new pods ready.
    let mut tries = 0;
    loop {
        let d = w.get(&format!("/deployments/{}", w.name)).await;
        if d["spec"]["template"]["metadata"]["annotations"]["kubectl-gmsa/certificate-serial"]
            != old_serial.as_str()
        {
            break;
        }
        tries += 1;
        assert!(tries < 600, "the Deployment was never restarted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    mark_ready(&w.ns, &w.name).await;
    let run = run.await.unwrap();
    run.ok();
    assert!(
        run.stdout.contains("certificate issued (new CA)"),
        "{}",
        run.stdout
    );
    // Only the new CA is trusted now, and it verifies the new certificate.
    let serving = b64_text(&w.get(&format!("/secrets/{}-tls", w.name)).await["data"]["tls.crt"]);
    for kind in [
        "mutatingwebhookconfigurations",
        "validatingwebhookconfigurations",
    ] {
        let c = w.get(&format!("/{kind}/{}", w.name)).await;
        let bundle = b64_text(&c["webhooks"][0]["clientConfig"]["caBundle"]);
        assert_eq!(
            gmsa::cluster::tls::certs_of(&bundle).unwrap().len(),
            1,
            "{kind} still trusts the old CA"
        );
        gmsa::cluster::tls::verify(
            &bundle,
            &serving,
            &format!("{}.{}.svc", w.name, w.ns),
            gmsa::cluster::tls::now(),
        )
        .unwrap();
    }
    assert_eq!(gmsa(&w.args("status", &[])).code, 0);
    w.cleanup();
}

#[tokio::test]
async fn a_user_who_may_write_everything_but_the_validating_webhook_gets_the_denied_list_and_no_change(
) {
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
    let w = Install::new();
    let user = unique("installer");
    let rw = ["get", "list", "create", "patch"];
    let grant: ClusterRole = serde_json::from_value(json!({
        "metadata": { "name": user },
        "rules": [
            { "apiGroups": [""], "resources": ["namespaces", "serviceaccounts", "secrets", "services"], "verbs": rw },
            { "apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": rw },
            { "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles", "clusterrolebindings"], "verbs": rw },
            { "apiGroups": ["apps"], "resources": ["deployments"], "verbs": rw },
            { "apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": rw },
            { "apiGroups": ["admissionregistration.k8s.io"], "resources": ["mutatingwebhookconfigurations"], "verbs": rw },
            { "apiGroups": ["admissionregistration.k8s.io"], "resources": ["validatingwebhookconfigurations"], "verbs": ["get", "list"] }
        ]
    }))
    .unwrap();
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": { "name": user },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": user },
        "subjects": [{ "kind": "User", "name": user, "apiGroup": "rbac.authorization.k8s.io" }]
    }))
    .unwrap();
    let client = admin().await;
    Api::<ClusterRole>::all(client.clone())
        .create(&PostParams::default(), &grant)
        .await
        .unwrap();
    Api::<ClusterRoleBinding>::all(client.clone())
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig_as(&user, dir.path());
    let mut args = vec!["--kubeconfig", kc.to_str().unwrap()];
    args.extend(w.args(
        "install-webhook",
        &["--failure-policy", "Ignore", "--no-wait"],
    ));
    let run = gmsa_plain(&args);
    assert_eq!(run.code, 5, "{run:?}");
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    for verb in ["create", "patch"] {
        let line = format!(
            "{verb} validatingwebhookconfigurations.admissionregistration.k8s.io/{}",
            w.name
        );
        assert!(run.stderr.contains(&line), "lists `{line}`: {}", run.stderr);
    }
    assert!(
        !run.stderr.contains("mutatingwebhookconfigurations"),
        "lists only what is denied: {}",
        run.stderr
    );
    // The cluster is unchanged: not one object of the install exists.
    assert!(get(&format!("/api/v1/namespaces/{}", w.ns)).await.is_none());
    for p in w.objects() {
        assert!(get(&p).await.is_none(), "{p} was written");
    }

    // The same user with the missing permission installs it all.
    let mut full = grant.clone();
    full.rules.as_mut().unwrap().last_mut().unwrap().verbs =
        rw.iter().map(|v| v.to_string()).collect();
    // Creating the webhook's own ClusterRole and binding needs what they grant (or escalate/bind).
    full.rules.as_mut().unwrap().push(
        serde_json::from_value(json!({ "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles", "clusterrolebindings"], "verbs": ["escalate", "bind"] })).unwrap(),
    );
    Api::<ClusterRole>::all(client.clone())
        .replace(&user, &PostParams::default(), &{
            let mut f = full;
            f.metadata.resource_version = Api::<ClusterRole>::all(client.clone())
                .get(&user)
                .await
                .unwrap()
                .metadata
                .resource_version;
            f
        })
        .await
        .unwrap();
    let ok = gmsa_plain(&args);
    ok.ok();
    for p in w.objects() {
        assert!(get(&p).await.is_some(), "{p} is missing");
    }

    w.cleanup();
    Api::<ClusterRoleBinding>::all(client.clone())
        .delete(&user, &Default::default())
        .await
        .unwrap();
    Api::<ClusterRole>::all(client)
        .delete(&user, &Default::default())
        .await
        .unwrap();
}
