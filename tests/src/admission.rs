//! Our admission webhook (`gmsa-webhook`), served for real to the test API server: installed
//! by `install-webhook --webhook kubectl-gmsa`, run on the webhook Service's loopback
//! ClusterIP with the key pair from the Secret the Deployment mounts, and reaching the API
//! server as the webhook's own service account. Shared by the e2e suite and the admission
//! benchmark.
//!
//! Every install here is scoped to namespaces that carry its own label (an extra
//! `namespaceSelector` term, written as admin), so that its real decisions never reach
//! other tests' pods in the shared test cluster.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, PostParams};
use serde_json::{json, Value};

use crate::{
    admin, bin, built_binary, gmsa, install_crd, kubeconfig_as, namespace_labelled, unique,
};

/// The label that lets a namespace's pods reach one test install.
pub const SCOPE_LABEL: &str = "gmsa-e2e/webhook";

/// The built `gmsa-webhook` binary, next to `kubectl-gmsa` (built with it when missing or
/// older than its sources).
pub fn webhook_bin() -> PathBuf {
    let cli = bin();
    let dir = cli.parent().unwrap();
    built_binary(
        dir,
        "gmsa-webhook",
        &["crates/gmsa/src", "crates/gmsa-webhook/src"],
    )
}

/// A running install of our webhook.
pub struct Webhook {
    pub name: String,
    pub ns: String,
    /// The Service's ClusterIP (loopback on the test cluster).
    pub ip: String,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
}

/// The text of a Kubernetes `data` value (base64).
pub fn b64_text(v: &Value) -> String {
    let bytes: k8s_openapi::ByteString = serde_json::from_value(v.clone()).unwrap();
    String::from_utf8(bytes.0).unwrap()
}

/// GET an API path as admin; `None` on 404.
pub async fn get(path: &str) -> Option<Value> {
    let req = http::Request::get(path).body(vec![]).unwrap();
    match admin().await.request_text(req).await {
        Ok(text) => Some(serde_json::from_str(&text).unwrap()),
        Err(kube::Error::Api(s)) if s.code == 404 => None,
        Err(e) => panic!("GET {path}: {e}"),
    }
}

impl Webhook {
    /// Install, scope, start our binary, and wait until the API server calls it.
    /// `extra` goes to `install-webhook`; `args` to `gmsa-webhook`.
    pub async fn start(extra: &[&str], args: &[&str]) -> Webhook {
        install_crd().await;
        let name = unique("gw");
        let ns = unique("gwns");
        // Ignore first: until the scope below is written, another test's pod may be sent here.
        let mut install = vec![
            "install-webhook",
            "--webhook",
            "kubectl-gmsa",
            "--name",
            &name,
            "-n",
            &ns,
            "--failure-policy",
            "Ignore",
            "--no-wait",
        ];
        install.extend_from_slice(extra);
        gmsa(&install).ok();
        let mut w = Webhook {
            ip: String::new(),
            dir: tempfile::tempdir().unwrap(),
            child: None,
            name,
            ns,
        };
        w.scope().await;
        let svc = get(&format!("/api/v1/namespaces/{}/services/{}", w.ns, w.name))
            .await
            .expect("the Service exists");
        w.ip = svc["spec"]["clusterIP"].as_str().unwrap().to_owned();
        assert!(
            w.ip.starts_with("127."),
            "the test cluster's ClusterIPs are loopback: {}",
            w.ip
        );
        w.mount().await;
        w.spawn(args);
        w.wait_until_called().await;
        w
    }

    /// Only namespaces labelled for this install, and failurePolicy Fail from now on.
    async fn scope(&self) {
        let client = admin().await;
        for (plural, kind) in [
            (
                "mutatingwebhookconfigurations",
                "MutatingWebhookConfiguration",
            ),
            (
                "validatingwebhookconfigurations",
                "ValidatingWebhookConfiguration",
            ),
        ] {
            let path = format!(
                "/apis/admissionregistration.k8s.io/v1/{plural}/{}",
                self.name
            );
            let mut cfg = get(&path).await.unwrap_or_else(|| panic!("{kind} exists"));
            let hook = &mut cfg["webhooks"][0];
            hook["failurePolicy"] = json!("Fail");
            hook["namespaceSelector"]["matchExpressions"]
                .as_array_mut()
                .unwrap()
                .push(json!({ "key": SCOPE_LABEL, "operator": "In", "values": [self.name] }));
            let req = http::Request::put(&path)
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(&cfg).unwrap())
                .unwrap();
            client.request_text(req).await.unwrap();
        }
    }

    /// Write the TLS Secret's key pair to `tls.crt` / `tls.key` as the kubelet mounts it
    /// (again after a rotation). Returns the certificate's PEM.
    pub async fn mount(&self) -> String {
        let secret = get(&format!(
            "/api/v1/namespaces/{}/secrets/{}-tls",
            self.ns, self.name
        ))
        .await
        .expect("the TLS Secret exists");
        let crt = b64_text(&secret["data"]["tls.crt"]);
        let key = b64_text(&secret["data"]["tls.key"]);
        // Like the kubelet's atomic writer: whole files appear at once.
        for (file, text) in [("tls.key.new", &key), ("tls.crt.new", &crt)] {
            std::fs::write(self.dir.path().join(file), text).unwrap();
        }
        std::fs::rename(
            self.dir.path().join("tls.key.new"),
            self.dir.path().join("tls.key"),
        )
        .unwrap();
        std::fs::rename(
            self.dir.path().join("tls.crt.new"),
            self.dir.path().join("tls.crt"),
        )
        .unwrap();
        crt
    }

    fn spawn(&mut self, args: &[&str]) {
        let user = format!("system:serviceaccount:{}:{}", self.ns, self.name);
        let kubeconfig = kubeconfig_as(&user, self.dir.path());
        let log = std::fs::File::create(self.log_path()).unwrap();
        let child = Command::new(webhook_bin())
            .arg("--listen")
            .arg(format!("{}:443", self.ip))
            .arg("--tls-cert-file")
            .arg(self.dir.path().join("tls.crt"))
            .arg("--tls-key-file")
            .arg(self.dir.path().join("tls.key"))
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--cert-poll-seconds")
            .arg("1")
            .args(args)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start gmsa-webhook");
        self.child = Some(child);
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("webhook.log")
    }

    /// The webhook's log lines (JSON objects).
    pub fn log(&self) -> Vec<Value> {
        std::fs::read_to_string(self.log_path())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON log line: {l}")))
            .collect()
    }

    /// The admission decisions it logged for pods named `name` in `ns`.
    pub fn decisions(&self, ns: &str, name: &str) -> Vec<Value> {
        self.log()
            .into_iter()
            .filter(|l| l["msg"] == "admission" && l["namespace"] == ns && l["name"] == name)
            .collect()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Still running?
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    /// Peak resident memory so far, KiB (VmHWM).
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// A namespace this install sees, with the given service accounts.
    pub async fn namespace(&self, service_accounts: &[&str]) -> String {
        self.namespace_labelled(service_accounts, json!({})).await
    }

    /// A namespace this install sees, with these labels and service accounts.
    pub async fn namespace_labelled(&self, service_accounts: &[&str], mut labels: Value) -> String {
        labels[SCOPE_LABEL] = json!(self.name);
        namespace_labelled(&unique("gwt"), labels, service_accounts).await
    }

    /// Create pods that use a spec nobody may use until the webhook refuses one: the API
    /// server has then picked the configuration up and reaches our binary.
    async fn wait_until_called(&mut self) {
        let ns = self.namespace(&[]).await;
        let api: Api<Pod> = Api::namespaced(admin().await, &ns);
        for i in 0..240 {
            assert!(
                self.running(),
                "gmsa-webhook exited:\n{}",
                std::fs::read_to_string(self.log_path()).unwrap_or_default()
            );
            let pod = gmsa_pod(
                &format!("probe-{i}"),
                "default",
                json!({ "gmsaCredentialSpecName": "no-such-spec" }),
            );
            if api.create(&PostParams::default(), &pod).await.is_err() {
                let _ = Api::<Namespace>::all(admin().await)
                    .delete(&ns, &Default::default())
                    .await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!(
            "the API server never called gmsa-webhook:\n{}",
            std::fs::read_to_string(self.log_path()).unwrap_or_default()
        );
    }

    /// Stop the binary with SIGTERM and wait for it (graceful shutdown).
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        for _ in 0..200 {
            if let Ok(Some(s)) = child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        child.wait().ok()
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = gmsa(&["uninstall-webhook", "--name", &self.name, "-n", &self.ns]);
    }
}

/// A Windows pod running as `service_account` with `pod_options` as its pod-level
/// `windowsOptions` (none when `{}`).
pub fn gmsa_pod(name: &str, service_account: &str, pod_options: Value) -> Pod {
    let mut spec = json!({
        "serviceAccountName": service_account,
        "automountServiceAccountToken": false,
        "containers": [{ "name": "app", "image": "mcr.microsoft.com/windows/servercore:ltsc2022" }]
    });
    if pod_options.as_object().is_some_and(|o| !o.is_empty()) {
        spec["securityContext"] = json!({ "windowsOptions": pod_options });
    }
    serde_json::from_value(json!({ "metadata": { "name": name }, "spec": spec })).unwrap()
}

/// `add-credspec` of the example spec under a unique name, usable by the given service
/// accounts of `ns`. Returns the spec's name.
pub fn add_credspec(ns: &str, service_accounts: &[&str]) -> String {
    let spec = unique("gwspec");
    let role = unique("gwrole");
    crate::add_example_credspec(&spec, &role, ns, service_accounts, &[]).ok();
    spec
}

/// The credential spec's contents as the webhook inlines them (Go's json.Marshal).
pub async fn inlined(spec: &str) -> String {
    let r = get(&format!(
        "/apis/windows.k8s.io/v1/gmsacredentialspecs/{spec}"
    ))
    .await
    .expect("the credential spec exists");
    gmsa::admission::inline_contents(spec, &r).unwrap()
}
