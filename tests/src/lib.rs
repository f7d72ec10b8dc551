//! Test helpers shared by the end-to-end suites: one real kube-apiserver per test run
//! (started by `scripts/test-cluster.sh ensure`, shared across test processes), a fresh
//! namespace and unique names per test, an admin client, and running the built CLI.

pub mod admission;
pub mod dns;
pub mod krew;
pub mod layout;
pub mod proxy;
pub mod rbac;
pub mod webhook;
pub mod wizard;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// The repository root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A running test cluster: its kubeconfig and the facts `test-cluster.sh env` prints.
pub struct TestCluster {
    pub kubeconfig: PathBuf,
    pub env: HashMap<String, String>,
}

impl TestCluster {
    pub fn var(&self, key: &str) -> &str {
        env_var(&self.env, "test-cluster.sh", key)
    }
    pub fn server(&self) -> &str {
        self.var("GMSA_TEST_SERVER")
    }
}

/// `key` of the facts `SCRIPT env` printed; panics when it has none.
pub fn env_var<'a>(env: &'a HashMap<String, String>, script: &str, key: &str) -> &'a str {
    env.get(key)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("{script} env has no {key}"))
}

/// Start (or join) the test cluster. Set `GMSA_TEST_CLUSTER_DIR` to choose its folder.
pub fn cluster() -> &'static TestCluster {
    static CLUSTER: OnceLock<TestCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let script = std::env::var_os("GMSA_TEST_CLUSTER_SCRIPT")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("scripts/test-cluster.sh"));
        let kubeconfig = PathBuf::from(ensure(&script));
        let out = Command::new("bash")
            .arg(&script)
            .arg("env")
            .output()
            .expect("run test-cluster.sh env");
        assert!(out.status.success(), "scripts/test-cluster.sh env failed");
        let env = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches(['"', '\'']).to_owned()))
            .collect();
        TestCluster { kubeconfig, env }
    })
}

/// Run `bash SCRIPT ensure` (its progress on our stderr) and return its stdout, trimmed.
pub fn ensure(script: &Path) -> String {
    let out = Command::new("bash")
        .arg(script)
        .arg("ensure")
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
    assert!(out.status.success(), "{} ensure failed", script.display());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A client for a context of the test kubeconfig (`admin`, `alice`, `bob`, `carol`).
pub async fn client_as(context: &str) -> Client {
    let kc = Kubeconfig::read_from(&cluster().kubeconfig).expect("read test kubeconfig");
    let opts = KubeConfigOptions {
        context: Some(context.into()),
        ..Default::default()
    };
    let config = Config::from_custom_kubeconfig(kc, &opts)
        .await
        .expect("test kubeconfig loads");
    Client::try_from(config).expect("client")
}

pub async fn admin() -> Client {
    client_as("admin").await
}

/// A name no other test uses: `prefix-<pid>-<n>`.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_micros();
    format!("{prefix}-{}-{n}-{t}", std::process::id())
}

/// Create a fresh namespace for one test, with the given service accounts in it.
pub async fn namespace(service_accounts: &[&str]) -> String {
    namespace_labelled(&unique("t"), serde_json::json!({}), service_accounts).await
}

/// Create namespace `name` with these labels and the given service accounts in it.
pub async fn namespace_labelled(
    name: &str,
    labels: serde_json::Value,
    service_accounts: &[&str],
) -> String {
    let client = admin().await;
    let ns: Namespace = serde_json::from_value(
        serde_json::json!({ "metadata": { "name": name, "labels": labels } }),
    )
    .unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
    for sa in service_accounts {
        let obj: ServiceAccount = serde_json::from_value(serde_json::json!({
            "metadata": { "name": sa, "namespace": name },
            "automountServiceAccountToken": false
        }))
        .unwrap();
        Api::<ServiceAccount>::namespaced(client.clone(), name)
            .create(&PostParams::default(), &obj)
            .await
            .expect("create service account");
    }
    name.to_owned()
}

/// Install the GMSACredentialSpec CRD with the project's own manifest (idempotent) and wait
/// until the API serves it.
pub async fn install_crd() {
    static DONE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    DONE.get_or_init(|| async {
        let client = admin().await;
        let crd = gmsa::cluster::crd::manifest();
        let api: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> = Api::all(client.clone());
        api.patch(gmsa::credspec::CRD_NAME, &PatchParams::apply("gmsa-tests").force(), &Patch::Apply(&crd))
            .await
            .expect("apply CRD");
        for _ in 0..100 {
            let r = client.request_text(http_get("/apis/windows.k8s.io/v1")).await;
            if r.is_ok() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the CRD was not served within 10 s");
    })
    .await;
}

fn http_get(path: &str) -> http::Request<Vec<u8>> {
    http::Request::get(path).body(vec![]).unwrap()
}

/// The built `kubectl-gmsa` binary. `scripts/test.sh` builds the workspace first; when the
/// binary is missing or older than a source file of the CLI or the core, it is built here
/// (the whole workspace's binaries, so that features match the test build's).
pub fn bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // target/<profile>/deps/e2e-xxxx -> target/<profile>/kubectl-gmsa
        let exe = std::env::current_exe().unwrap();
        let dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
        built_binary(
            &dir,
            "kubectl-gmsa",
            &["crates/gmsa", "crates/kubectl-gmsa"],
        )
    })
    .clone()
}

/// The workspace binary `name` in the target folder `dir`, built (all the workspace's
/// binaries, so that features match) when missing or older than a file under `sources`.
pub fn built_binary(dir: &Path, name: &str, sources: &[&str]) -> PathBuf {
    let bin = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
    let stale = match built {
        None => true,
        Some(t) => sources
            .iter()
            .any(|d| newer_than(&workspace_root().join(d), t)),
    };
    if stale {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "--workspace", "--bins"])
            .current_dir(workspace_root())
            .env("CARGO_TARGET_DIR", dir.parent().unwrap());
        if dir.ends_with("release") {
            cmd.arg("--release");
        }
        assert!(
            cmd.status().expect("run cargo build").success(),
            "cargo build of {name} failed"
        );
    }
    bin
}

fn newer_than(dir: &Path, t: std::time::SystemTime) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            newer_than(&p, t)
        } else {
            e.metadata().and_then(|m| m.modified()).is_ok_and(|m| m > t)
        }
    })
}

/// The result of one CLI run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    /// Assert that stdout contains `text` (showing stdout when it does not).
    pub fn stdout_has(&self, text: &str) -> &Self {
        assert_has("stdout", &self.stdout, text);
        self
    }
    /// Assert that stderr contains `text` (showing stderr when it does not).
    pub fn stderr_has(&self, text: &str) -> &Self {
        assert_has("stderr", &self.stderr, text);
        self
    }
    pub fn fails(&self) -> &Self {
        assert_ne!(
            self.code, 0,
            "expected failure\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

fn assert_has(stream: &str, output: &str, text: &str) {
    assert!(
        output.contains(text),
        "expected {text:?} on {stream}:\n{output}"
    );
}

/// The exit code and output of a finished command.
pub fn to_run(o: Output) -> Run {
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Run `kubectl-gmsa ARGS` against the test cluster (admin context unless ARGS say otherwise).
pub fn gmsa(args: &[&str]) -> Run {
    gmsa_with_stdin(args, None)
}

pub fn gmsa_with_stdin(args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(bin());
    cmd.arg("--kubeconfig")
        .arg(&cluster().kubeconfig)
        .args(args)
        .env("NO_COLOR", "1");
    run_cmd(cmd, stdin)
}

/// Run `kubectl-gmsa ARGS` with no cluster flags added.
pub fn gmsa_plain(args: &[&str]) -> Run {
    let mut cmd = Command::new(bin());
    cmd.args(args).env("NO_COLOR", "1");
    run_cmd(cmd, None)
}

fn run_cmd(mut cmd: Command, stdin: Option<&str>) -> Run {
    use std::io::Write;
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn kubectl-gmsa");
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    to_run(child.wait_with_output().unwrap())
}

/// A copy of the test kubeconfig in `dir` whose `admin` context impersonates `user` (kubeconfig
/// `as:`): a user of the test's own name, for RBAC that no other test sees.
pub fn kubeconfig_as(user: &str, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(&cluster().kubeconfig).unwrap();
    let anchor = "- name: admin\n  user:\n";
    assert!(text.contains(anchor), "the kubeconfig has an admin user");
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        text.replacen(anchor, &format!("{anchor}    as: {user}\n"), 1),
    )
    .unwrap();
    path
}

/// `add-credspec` of the example domain-joined spec as `spec` with cluster role `role`, usable
/// by the given service accounts of `ns`, plus `more`.
pub fn add_example_credspec(
    spec: &str,
    role: &str,
    ns: &str,
    service_accounts: &[&str],
    more: &[&str],
) -> Run {
    let file = example("credspecs/webapp01-domain-joined.json");
    let mut a = vec![
        "add-credspec",
        "--credspec-file",
        file.to_str().unwrap(),
        "--credspec-name",
        spec,
        "--cluster-role-name",
        role,
        "-n",
        ns,
    ];
    for sa in service_accounts {
        a.extend(["--service-account", sa]);
    }
    a.extend_from_slice(more);
    gmsa(&a)
}

/// The GMSACredentialSpec resources of the cluster `client` talks to.
pub fn credspec_api(client: &Client) -> Api<kube::api::DynamicObject> {
    let ar = kube::core::ApiResource {
        group: "windows.k8s.io".into(),
        version: "v1".into(),
        api_version: "windows.k8s.io/v1".into(),
        kind: "GMSACredentialSpec".into(),
        plural: "gmsacredentialspecs".into(),
    };
    Api::all_with(client.clone(), &ar)
}

/// Path of a file under `examples/`.
pub fn example(rel: &str) -> PathBuf {
    workspace_root().join("examples").join(rel)
}
pub mod dc;
