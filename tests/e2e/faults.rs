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
    let err = tokio::time::timeout(
        Duration::from_secs(60),
        ops::add_credspec(&req, &FreezeOnWrite(proxy.handle())),
    )
    .await
    .expect("add-credspec hung on a server that stopped answering")
    .expect_err("add-credspec cannot succeed while the server does not answer");
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

    let file = example("credspecs/webapp01-domain-joined.json");
    let args = [
        "add-credspec",
        "--credspec-file",
        file.to_str().unwrap(),
        "--credspec-name",
        &spec,
        "--cluster-role-name",
        &role,
        "--service-account",
        "app",
        "-n",
        &ns,
    ];
    let r = gmsa(&args);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        r.stderr.contains(&format!(
            "clusterrole/{role} exists and is not managed by kubectl-gmsa"
        )),
        "{}",
        r.stderr
    );
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

    let mut forced = args.to_vec();
    forced.push("--overwrite");
    gmsa(&forced).ok();
    let taken = api.get(&role).await.unwrap();
    let rule_names = taken.rules.unwrap()[0].resource_names.clone().unwrap();
    assert_eq!(rule_names, vec![spec]);
}
