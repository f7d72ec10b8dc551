//! Faults: a server that stops answering in the middle of a write, and a second writer that
//! owns fields we set. The command must fail in time with a clear message, a re-run must
//! converge, and another tool's fields are never taken silently.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gmsa::cluster::access::may_use;
use gmsa::cluster::Target;
use gmsa::ops::{self, AddCredspecRequest, CredspecSource};
use gmsa::progress::Reporter;
use gmsa::ErrorKind;
use gmsa_tests::proxy::{kubeconfig_via, Proxy};
use gmsa_tests::*;
use k8s_openapi::api::rbac::v1::ClusterRole;
use kube::api::{Api, Patch, PatchParams};

/// Freezes the proxy as soon as the operation starts writing.
struct FreezeOnWrite(Arc<AtomicBool>);

impl Reporter for FreezeOnWrite {
    fn step(&self, message: &str) {
        if message.starts_with("applying") {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

/// Runs `op` against a server that stopped answering: it must fail (not succeed, not hang
/// past `hang`). Returns the error and how long the failure took.
async fn fails_without_hanging<T: std::fmt::Debug>(
    what: &str,
    hang: Duration,
    op: impl std::future::Future<Output = gmsa::Result<T>>,
) -> (gmsa::Error, Duration) {
    let started = std::time::Instant::now();
    let err = tokio::time::timeout(hang, op)
        .await
        .unwrap_or_else(|_| panic!("{what} hung on a server that stopped answering"))
        .expect_err("it cannot succeed while the server does not answer");
    (err, started.elapsed())
}

/// `op` on a server that stopped answering fails with a timeout within `bound` (never hangs
/// `hang`); the time it took is logged.
async fn times_out_within<T: std::fmt::Debug>(
    what: &str,
    hang: Duration,
    bound: Duration,
    op: impl std::future::Future<Output = gmsa::Result<T>>,
) -> gmsa::Error {
    let (err, took) = fails_without_hanging(what, hang, op).await;
    eprintln!("{what} on a server that stopped answering, after {took:?}:\n{err}");
    assert!(took < bound, "took {took:?}: {err}");
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_answering_mid_add_fails_in_time_and_a_rerun_converges() {
    install_crd().await;
    let ns = namespace(&["app"]).await;
    let spec = unique("fault");
    let upstream: std::net::SocketAddr = cluster()
        .server()
        .trim_start_matches("https://")
        .parse()
        .unwrap();
    let proxy = Proxy::start(upstream).await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kubeconfig_via(proxy.addr, dir.path());
    let req = AddCredspecRequest {
        target: Target {
            kubeconfig: Some(kubeconfig),
            context: None,
            request_timeout_secs: Some(2),
        },
        source: CredspecSource {
            credspec_file: Some(example("credspecs/webapp01-domain-joined.json")),
            credspec: None,
        },
        credspec_name: Some(spec.clone()),
        cluster_role_name: Some(format!("{spec}-user")),
        service_accounts: vec!["app".into()],
        namespace: Some(ns.clone()),
        ..Default::default()
    };

    // A hang detector, not a performance figure: with 2 s request timeouts this must end.
    let (err, _) = fails_without_hanging(
        "add-credspec",
        Duration::from_secs(60),
        ops::add_credspec(&req, &FreezeOnWrite(proxy.handle())),
    )
    .await;
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert!(err.message.contains("failed to apply"), "{err}");
    assert!(
        err.message.contains("roll"),
        "says what happened to what was created: {err}"
    );

    proxy.thaw();
    let done = ops::add_credspec(&req, &gmsa::progress::Silent)
        .await
        .expect("a re-run converges");
    assert_eq!(done.objects.len(), 3);
    let client = admin().await;
    assert!(may_use(&client, &ns, "app", &spec).await.unwrap());
    let again = ops::add_credspec(&req, &gmsa::progress::Silent)
        .await
        .unwrap();
    assert!(
        again
            .objects
            .iter()
            .all(|o| o.action == ops::Action::Unchanged),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_field_another_manager_owns_is_reported_not_overwritten_unless_asked() {
    install_crd().await;
    let ns = namespace(&["app"]).await;
    let spec = unique("owned");
    let role = format!("{spec}-user");
    // Another tool applies the same ClusterRole with other rules.
    let theirs: ClusterRole = serde_json::from_value(serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": { "name": role },
        "rules": [{ "apiGroups": ["windows.k8s.io"], "resources": ["gmsacredentialspecs"], "verbs": ["use"], "resourceNames": ["something-else"] }]
    }))
    .unwrap();
    let api: Api<ClusterRole> = Api::all(admin().await);
    api.patch(
        &role,
        &PatchParams::apply("other-tool"),
        &Patch::Apply(&theirs),
    )
    .await
    .unwrap();
    let before = api.get(&role).await.unwrap();

    let r = add_example_credspec(&spec, &role, &ns, &["app"], &[]);
    assert_eq!(r.code, 4, "{r:?}");
    r.stderr_has(&format!(
        "clusterrole/{role} exists and is not managed by kubectl-gmsa"
    ));
    let after = api.get(&role).await.unwrap();
    assert_eq!(
        before.metadata.resource_version, after.metadata.resource_version,
        "their role was changed"
    );
    assert!(
        Api::<k8s_openapi::api::rbac::v1::RoleBinding>::namespaced(admin().await, &ns)
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );

    add_example_credspec(&spec, &role, &ns, &["app"], &["--overwrite"]).ok();
    let taken = api.get(&role).await.unwrap();
    let rule_names = taken.rules.unwrap()[0].resource_names.clone().unwrap();
    assert_eq!(rule_names, vec![spec]);
}

// ---------------------------------------------------------------- install-webhook

/// Freezes the proxy when a step starts applying an object whose display contains `needle`.
struct FreezeAt {
    frozen: Arc<AtomicBool>,
    needle: &'static str,
}

impl Reporter for FreezeAt {
    fn step(&self, message: &str) {
        if message.starts_with("applying ") && message.contains(self.needle) {
            self.frozen.store(true, Ordering::SeqCst);
        }
    }
}

fn api_server() -> std::net::SocketAddr {
    cluster()
        .server()
        .trim_start_matches("https://")
        .parse()
        .unwrap()
}

fn install_request(
    kubeconfig: Option<std::path::PathBuf>,
    name: &str,
    ns: &str,
    timeout_secs: u64,
) -> ops::InstallWebhookRequest {
    ops::InstallWebhookRequest {
        target: Target {
            kubeconfig: Some(kubeconfig.unwrap_or_else(|| cluster().kubeconfig.clone())),
            context: None,
            request_timeout_secs: Some(timeout_secs),
        },
        name: Some(name.into()),
        namespace: Some(ns.into()),
        failure_policy: gmsa::cluster::webhook::FailurePolicy::Ignore,
        wait: false,
        ..Default::default()
    }
}

/// Every object an install of `name` in `ns` makes, as API paths.
fn webhook_paths(name: &str, ns: &str) -> Vec<String> {
    vec![
        format!(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{}",
            gmsa::credspec::CRD_NAME
        ),
        format!("/api/v1/namespaces/{ns}"),
        format!("/api/v1/namespaces/{ns}/serviceaccounts/{name}"),
        format!("/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"),
        format!("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{name}"),
        format!("/api/v1/namespaces/{ns}/secrets/{name}-ca"),
        format!("/api/v1/namespaces/{ns}/secrets/{name}-tls"),
        format!("/api/v1/namespaces/{ns}/services/{name}"),
        format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}"),
        format!("/apis/policy/v1beta1/namespaces/{ns}/poddisruptionbudgets/{name}"),
        format!("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/{name}"),
        format!("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/{name}"),
    ]
}

/// GET an API path as admin; `None` on 404.
async fn get_path(path: &str) -> Option<serde_json::Value> {
    let req = http::Request::get(path).body(vec![]).unwrap();
    match admin().await.request_text(req).await {
        Ok(text) => Some(serde_json::from_str(&text).unwrap()),
        Err(kube::Error::Api(s)) if s.code == 404 => None,
        Err(e) => panic!("GET {path}: {e}"),
    }
}

/// An object with what differs between any two installs taken out: server-set metadata,
/// status, key material, certificate serials and CA bundles (checked separately), the
/// Service's address; and the
/// install's name and namespace replaced by placeholders.
fn normalized(v: &serde_json::Value, name: &str, ns: &str) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for k in [
                    "uid",
                    "resourceVersion",
                    "creationTimestamp",
                    "managedFields",
                    "generation",
                    "status",
                    "caBundle",
                    "clusterIP",
                    "clusterIPs",
                    "selfLink",
                    // Random per certificate; `status` checks that the certificates fit.
                    "kubectl-gmsa/certificate-serial",
                ] {
                    m.remove(k);
                }
                if m.get("kind").and_then(|k| k.as_str()) == Some("Secret") {
                    m.remove("data");
                }
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let text = v
        .to_string()
        .replace(ns, "<namespace>")
        .replace(name, "<name>");
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    strip(&mut v);
    v
}

async fn snapshot(name: &str, ns: &str) -> Vec<(String, Option<serde_json::Value>)> {
    let mut out = vec![];
    for p in webhook_paths(name, ns) {
        let v = get_path(&p).await.map(|v| normalized(&v, name, ns));
        out.push((p.replace(ns, "<namespace>").replace(name, "<name>"), v));
    }
    out
}

async fn uninstall(name: &str, ns: &str) {
    let _ = ops::uninstall_webhook(
        &ops::UninstallWebhookRequest {
            target: Target {
                kubeconfig: Some(cluster().kubeconfig.clone()),
                context: None,
                request_timeout_secs: Some(30),
            },
            name: Some(name.into()),
            namespace: Some(ns.into()),
            ..Default::default()
        },
        &gmsa::progress::Silent,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_webhook_on_a_server_that_stops_answering_fails_in_time_and_a_rerun_equals_a_clean_install(
) {
    let proxy = Proxy::start(api_server()).await;
    let dir = tempfile::tempdir().unwrap();
    let via = kubeconfig_via(proxy.addr, dir.path());
    let (name, ns) = (unique("whf"), unique("whfns"));
    let req = install_request(Some(via), &name, &ns, 2);

    // The namespace (and CRD) wave gets through; the server stops answering before the
    // Secrets, RBAC, Service and Deployment.
    let freeze = FreezeAt {
        frozen: proxy.handle(),
        needle: "deployment/",
    };
    // Generous bound on a loaded machine: one 2 s timeout for the wave, and one per rollback delete.
    let err = times_out_within(
        "install-webhook",
        Duration::from_secs(120),
        Duration::from_secs(30),
        ops::install_webhook(&req, &freeze),
    )
    .await;
    assert!(err.message.contains("failed to apply"), "{err}");
    assert!(
        err.message.contains("timed out") || err.message.contains("did not answer"),
        "names what happened: {err}"
    );
    // What this run created is rolled back, or the message says it could not be and what to do.
    assert!(
        err.message.contains("rolled back") || err.message.contains("rollback incomplete"),
        "{err}"
    );
    if err.message.contains("rollback incomplete") {
        assert!(
            err.message.contains(&format!("namespace/{ns}")),
            "names what is left: {err}"
        );
        assert!(err.message.contains("run the same command again"), "{err}");
    }

    // The server comes back; what it held while frozen never arrives. A re-run converges.
    proxy.restart();
    let done = ops::install_webhook(&req, &gmsa::progress::Silent)
        .await
        .expect("a re-run converges");
    assert!(done.objects.iter().all(|o| o.reason.is_none()), "{done:?}");
    let again = ops::install_webhook(&req, &gmsa::progress::Silent)
        .await
        .expect("a third run changes nothing");
    let changed: Vec<_> = again
        .objects
        .iter()
        .filter(|o| o.action != ops::Action::Unchanged)
        .collect();
    assert!(changed.is_empty(), "{changed:?}");

    // Exactly what a clean install makes.
    let (clean_name, clean_ns) = (unique("whc"), unique("whcns"));
    ops::install_webhook(
        &install_request(None, &clean_name, &clean_ns, 30),
        &gmsa::progress::Silent,
    )
    .await
    .expect("a clean install");
    let got = snapshot(&name, &ns).await;
    let want = snapshot(&clean_name, &clean_ns).await;
    for ((path, g), (_, w)) in got.iter().zip(&want) {
        assert!(g.is_some(), "{path} is missing after the re-run");
        assert_eq!(g, w, "{path} differs from a clean install");
    }
    // The certificates the re-run made are consistent (CA bundle verifies the serving cert).
    let status = ops::status(
        &ops::StatusRequest {
            target: install_request(None, &name, &ns, 30).target,
            name: Some(name.clone()),
            namespace: Some(ns.clone()),
        },
        &gmsa::progress::Silent,
    )
    .await
    .unwrap();
    assert!(status.certificate.present, "{status:?}");
    assert!(
        status
            .webhooks
            .iter()
            .all(|w| w.present && w.ca_bundle_verifies),
        "{status:?}"
    );

    uninstall(&name, &ns).await;
    uninstall(&clean_name, &clean_ns).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_webhook_on_a_slow_server_within_the_timeout_succeeds() {
    let proxy = Proxy::start(api_server()).await;
    proxy.set_delay(Duration::from_millis(300));
    let dir = tempfile::tempdir().unwrap();
    let via = kubeconfig_via(proxy.addr, dir.path());
    let (name, ns) = (unique("whs"), unique("whsns"));
    let req = install_request(Some(via), &name, &ns, 20);
    let done = tokio::time::timeout(
        Duration::from_secs(300),
        ops::install_webhook(&req, &gmsa::progress::Silent),
    )
    .await
    .expect("install-webhook hung on a slow server")
    .expect("a slow server that answers within the timeout is fine");
    assert!(
        done.objects.iter().any(|o| o.kind == "Deployment"),
        "{done:?}"
    );
    for p in webhook_paths(&name, &ns) {
        assert!(get_path(&p).await.is_some(), "{p} is missing");
    }
    uninstall(&name, &ns).await;
}

// ---------------------------------------------------------------- create-account

fn create_request(server: &str, account: &str, group: Option<&str>) -> ops::CreateAccountRequest {
    let d = gmsa_tests::dc::dc();
    ops::CreateAccountRequest {
        directory: gmsa::directory::DirectoryTarget {
            server: Some(server.into()),
            ca_file: Some(d.ca().into()),
            user: Some(d.admin().user.into()),
            password: Some(d.admin().password.into()),
            timeout_secs: Some(2),
            ..Default::default()
        },
        account: account.into(),
        allowed_principals: if group.is_some() {
            vec![]
        } else {
            vec!["WebHosts".into()]
        },
        create_group: group.map(str::to_owned),
        ..Default::default()
    }
}

/// Freezes the proxy when a step starts with `prefix`.
struct FreezeOnStep {
    frozen: Arc<AtomicBool>,
    prefix: &'static str,
}

impl Reporter for FreezeOnStep {
    fn step(&self, message: &str) {
        if message.starts_with(self.prefix) {
            self.frozen.store(true, Ordering::SeqCst);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_account_on_a_dc_that_stops_answering_before_the_add_leaves_nothing_and_a_rerun_creates_it(
) {
    let d = gmsa_tests::dc::dc();
    let proxy = Proxy::start(d.ldaps_addr()).await;
    let server = format!("ldaps://127.0.0.1:{}", proxy.addr.port());
    let account = gmsa_tests::dc::unique_account("cut");
    let req = create_request(&server, &account, None);

    // Bound, names checked, principals resolved: the DC stops answering before the add.
    let freeze = FreezeOnStep {
        frozen: proxy.handle(),
        prefix: "creating gMSA",
    };
    let err = times_out_within(
        "create-account",
        Duration::from_secs(60),
        Duration::from_secs(20),
        ops::create_account(&req, &freeze),
    )
    .await;
    assert!(
        err.message
            .contains(&format!("failed to create gMSA CN={account}")),
        "{err}"
    );
    assert!(err.message.contains("check-account"), "{err}");

    // The DC comes back; the held add never arrives. Nothing half-made is there.
    proxy.restart();
    assert_eq!(d.dn_of(&format!("{account}$")), None, "a gMSA was left");
    assert_eq!(d.dn_of(&account), None);

    let done = ops::create_account(&req, &gmsa::progress::Silent)
        .await
        .expect("a re-run creates the account");
    let dn = d.dn_of(&format!("{account}$")).expect("the gMSA exists");
    assert_eq!(dn, done.account_dn);
    assert_eq!(d.attr(&dn, "userAccountControl").as_deref(), Some("4096"));
    assert!(d.attr(&dn, "msDS-GroupMSAMembership").is_some());
    assert!(d.attr(&dn, "servicePrincipalName").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_account_cut_after_its_group_was_made_deletes_the_group_and_a_rerun_creates_both() {
    let d = gmsa_tests::dc::dc();
    let proxy = Proxy::start(d.ldaps_addr()).await;
    let server = format!("ldaps://127.0.0.1:{}", proxy.addr.port());
    let account = gmsa_tests::dc::unique_account("cutg");
    let group = format!("{account}H");
    let req = create_request(&server, &account, Some(&group));

    // The group is added; the connection dies before the gMSA's add. A server that comes back
    // at once: the rollback's own new connection gets through.
    struct CutAfterGroup(Proxy);
    impl Reporter for CutAfterGroup {
        fn step(&self, message: &str) {
            if message.starts_with("creating gMSA") {
                self.0.freeze();
                self.0.restart();
            }
        }
    }
    let cut = CutAfterGroup(proxy);
    let err = tokio::time::timeout(Duration::from_secs(60), ops::create_account(&req, &cut))
        .await
        .expect("create-account hung")
        .expect_err("the gMSA's add was cut");
    eprintln!("create-account cut after its group:\n{err}");
    assert!(
        err.message
            .contains(&format!("failed to create gMSA CN={account}")),
        "{err}"
    );
    assert!(
        err.message.contains("rolled back: deleted group"),
        "the group this run made is deleted: {err}"
    );
    assert_eq!(d.dn_of(&group), None, "the group was left");
    assert_eq!(d.dn_of(&format!("{account}$")), None, "a gMSA was left");

    ops::create_account(&req, &gmsa::progress::Silent)
        .await
        .expect("a re-run creates group and gMSA");
    assert!(d.dn_of(&group).is_some());
    assert!(d.dn_of(&format!("{account}$")).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_account_on_a_slow_dc_within_the_timeout_succeeds() {
    let d = gmsa_tests::dc::dc();
    let proxy = Proxy::start(d.ldaps_addr()).await;
    proxy.set_delay(Duration::from_millis(200));
    let server = format!("ldaps://127.0.0.1:{}", proxy.addr.port());
    let account = gmsa_tests::dc::unique_account("slow");
    let mut req = create_request(&server, &account, None);
    req.directory.timeout_secs = Some(15);
    let done = tokio::time::timeout(
        Duration::from_secs(120),
        ops::create_account(&req, &gmsa::progress::Silent),
    )
    .await
    .expect("create-account hung on a slow DC")
    .expect("a slow DC that answers within the timeout is fine");
    assert_eq!(d.dn_of(&format!("{account}$")), Some(done.account_dn));
}

// ---------------------------------------------------------------- the CLI, end to end

/// Run the CLI in a blocking task (the proxy lives on this runtime); how long it took.
async fn timed_cli(args: Vec<String>, envs: Vec<(String, String)>) -> (Run, Duration) {
    tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let o = std::process::Command::new(bin())
            .args(&args)
            .envs(envs)
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let run = Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        };
        (run, started.elapsed())
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_gives_up_on_a_silent_api_server_within_its_request_timeout() {
    let proxy = Proxy::start(api_server()).await;
    proxy.freeze();
    let dir = tempfile::tempdir().unwrap();
    let via = kubeconfig_via(proxy.addr, dir.path());
    let (name, ns) = (unique("whq"), unique("whqns"));
    let (run, took) = timed_cli(
        [
            "--kubeconfig",
            via.to_str().unwrap(),
            "install-webhook",
            "--name",
            &name,
            "-n",
            &ns,
            "--failure-policy",
            "Ignore",
            "--no-wait",
            "--request-timeout",
            "2",
        ]
        .map(String::from)
        .to_vec(),
        vec![],
    )
    .await;
    assert!(took < Duration::from_secs(20), "took {took:?}: {run:?}");
    assert_eq!(run.code, 7, "{run:?}");
    assert!(
        run.stderr.contains("did not answer in time") && run.stderr.contains("--request-timeout"),
        "{}",
        run.stderr
    );
    proxy.restart();
    assert!(get_path(&format!("/api/v1/namespaces/{ns}"))
        .await
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_gives_up_on_a_silent_dc_within_its_timeout() {
    let d = gmsa_tests::dc::dc();
    let proxy = Proxy::start(d.ldaps_addr()).await;
    proxy.freeze();
    let account = gmsa_tests::dc::unique_account("sil");
    let (run, took) = timed_cli(
        [
            "create-account",
            &account,
            "--allowed-principal",
            "WebHosts",
            "--server",
            &format!("ldaps://127.0.0.1:{}", proxy.addr.port()),
            "--ca-file",
            d.ca(),
            "--user",
            d.admin().user,
            "--timeout",
            "2",
        ]
        .map(String::from)
        .to_vec(),
        vec![("GMSA_LDAP_PASSWORD".into(), d.admin().password.into())],
    )
    .await;
    assert!(took < Duration::from_secs(20), "took {took:?}: {run:?}");
    assert_eq!(run.code, 7, "{run:?}");
    run.stderr_has("did not answer in time");
    proxy.restart();
    assert_eq!(d.dn_of(&format!("{account}$")), None);
}

// ---------------------------------------------------------------- conflicting writers

#[tokio::test]
async fn install_webhook_reports_an_object_another_tool_made_and_takes_it_only_with_overwrite() {
    let (name, ns) = (unique("who"), unique("whons"));
    let client = admin().await;
    // Another tool made the namespace and a Service of the webhook's name in it.
    let ns_obj: k8s_openapi::api::core::v1::Namespace =
        serde_json::from_value(serde_json::json!({ "metadata": { "name": ns } })).unwrap();
    Api::<k8s_openapi::api::core::v1::Namespace>::all(client.clone())
        .create(&Default::default(), &ns_obj)
        .await
        .unwrap();
    let theirs: k8s_openapi::api::core::v1::Service = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": { "name": name, "namespace": ns },
        "spec": { "ports": [{ "port": 8443, "protocol": "TCP" }], "selector": { "app": "theirs" } }
    }))
    .unwrap();
    let services: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(client.clone(), &ns);
    services
        .patch(
            &name,
            &PatchParams::apply("other-tool"),
            &Patch::Apply(&theirs),
        )
        .await
        .unwrap();
    let before = services.get(&name).await.unwrap();

    let args = |more: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "install-webhook",
            "--name",
            &name,
            "-n",
            &ns,
            "--failure-policy",
            "Ignore",
            "--no-wait",
        ]
        .map(String::from)
        .to_vec();
        v.extend(more.iter().map(|s| s.to_string()));
        v
    };
    let a = args(&[]);
    let r = gmsa(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r.code, 4, "{r:?}");
    r.stderr_has(&format!(
        "service/{name} in namespace {ns} exists and was not made by"
    ));
    r.stderr_has("nothing was changed");
    let after = services.get(&name).await.unwrap();
    assert_eq!(
        before.metadata.resource_version,
        after.metadata.resource_version
    );
    for p in webhook_paths(&name, &ns).iter().skip(2) {
        if !p.contains("/services/") {
            assert!(get_path(p).await.is_none(), "{p} was written");
        }
    }

    let a = args(&["--overwrite"]);
    gmsa(&a.iter().map(String::as_str).collect::<Vec<_>>()).ok();
    // Taken over, not merged: their port and selector are gone (regression: a forced apply
    // kept their port beside ours, and the server refused two ports without names).
    let spec = services.get(&name).await.unwrap().spec.unwrap();
    let ports: Vec<i32> = spec.ports.unwrap().iter().map(|p| p.port).collect();
    assert_eq!(ports, vec![443]);
    let selector = spec.selector.unwrap();
    assert!(!selector.contains_key("app"), "{selector:?}");
    assert!(
        selector.contains_key("app.kubernetes.io/instance"),
        "{selector:?}"
    );
    uninstall(&name, &ns).await;
}
