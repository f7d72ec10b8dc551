//! The webhook is safe by default, against the real test API server (1.20: no
//! `matchConditions`, so every pod outside the excluded namespaces goes to the webhook):
//! an install's cluster-wide objects know their owner (uninstall with a wrong or missing -n
//! and a second install elsewhere change nothing), and a first install never blocks pods
//! (failurePolicy Ignore until the webhook answers through the API server, then Fail). A client
//! dry run of the uninstall only reads.

use std::time::Duration;

use gmsa_tests::rbac::Grant;
use gmsa_tests::webhook::*;
use gmsa_tests::*;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, PostParams};
use serde_json::{json, Value};

/// The resourceVersion of every object of an install (panics if one is missing).
async fn versions(w: &Install) -> Vec<(String, String)> {
    let mut out = vec![];
    for p in w.objects() {
        let v = get(&p).await.unwrap_or_else(|| panic!("{p} is missing"));
        out.push((p, rv(&v)));
    }
    out
}

fn plain_pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": { "name": name },
        "spec": { "automountServiceAccountToken": false,
                  "containers": [{ "name": "app", "image": "registry.k8s.io/pause:3.9" }] }
    }))
    .unwrap()
}

async fn create_pod(ns: &str, pod: &Pod) -> Result<Pod, kube::Error> {
    Api::<Pod>::namespaced(admin().await, ns)
        .create(&PostParams::default(), pod)
        .await
}

async fn delete_namespace(ns: &str) {
    let _ = Api::<Namespace>::all(admin().await)
        .delete(ns, &Default::default())
        .await;
}

#[tokio::test]
async fn uninstall_with_a_wrong_or_missing_namespace_changes_nothing_and_names_the_owner() {
    let w = Install::new();
    w.install(&["--no-wait"]).ok();
    let before = versions(&w).await;

    let wrong = unique("whnothing");
    let run = gmsa(&["uninstall-webhook", "--name", &w.name, "-n", &wrong]);
    assert_eq!(run.code, 4, "{run:?}");
    run.stderr_has(&format!("lives in namespace {}, not {wrong}", w.ns));
    run.stderr_has("nothing was changed");
    run.stderr_has(&format!("uninstall-webhook --name {} -n {}", w.name, w.ns));

    let run = gmsa(&["uninstall-webhook", "--name", &w.name]);
    assert_eq!(run.code, 4, "{run:?}");
    run.stderr_has(&format!("lives in namespace {}", w.ns));
    run.stderr_has("no -n was given");

    // Not even a server dry run gets past the check; and nothing changed.
    assert_eq!(versions(&w).await, before);
    assert!(get(&format!("/api/v1/namespaces/{wrong}")).await.is_none());

    // status without -n finds it from its configurations.
    let s = gmsa(&["status", "--name", &w.name]);
    assert!(
        s.stdout
            .contains(&format!("webhook {} in namespace {}", w.name, w.ns)),
        "{s:?}"
    );

    // The right namespace uninstalls it.
    gmsa(&w.args("uninstall-webhook", &[])).ok();
    for p in w.objects() {
        assert!(get(&p).await.is_none(), "{p} is left");
    }
}

#[tokio::test]
async fn a_second_install_in_another_namespace_is_refused_and_the_first_keeps_working() {
    let first = Install::new();
    first.install_ready().await;
    let before = versions(&first).await;

    let second = Install {
        name: first.name.clone(),
        ns: unique("whns2"),
    };
    let run = second.install(&["--no-wait"]);
    assert_eq!(run.code, 4, "{run:?}");
    run.stderr_has(&format!(
        "webhook {} is already installed in namespace {}",
        first.name, first.ns
    ));
    run.stderr_has(&format!(
        "validatingwebhookconfiguration/{} belongs to the install in namespace {}",
        first.name, first.ns
    ));
    run.stderr_has("--overwrite");
    assert!(
        get(&format!("/api/v1/namespaces/{}", second.ns))
            .await
            .is_none(),
        "the second install created its namespace"
    );

    // The first is untouched and still healthy.
    assert_eq!(versions(&first).await, before);
    let s = gmsa(&first.args("status", &[]));
    assert_eq!(s.code, 0, "{s:?}");
    let v = first.validating().await;
    assert_eq!(
        v["webhooks"][0]["clientConfig"]["service"]["namespace"],
        first.ns.as_str()
    );
    assert_eq!(
        v["metadata"]["annotations"]["kubectl-gmsa/owner"],
        format!("{}/{}", first.ns, first.name)
    );
    first.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_install_whose_webhook_never_answers_does_not_block_pods() {
    let w = Install::new();
    let pods_ns = namespace_labelled(&unique("whpods"), json!({}), &[]).await;
    // The default failure policy (Fail), and no webhook ever serving.
    let run = gmsa_in_background(&w.args("install-webhook", &["--timeout", "6s"]));
    let path = w.path(&format!("/validatingwebhookconfigurations/{}", w.name));
    let mut tries = 0;
    let v = loop {
        if let Some(v) = get(&path).await {
            break v;
        }
        tries += 1;
        assert!(tries < 600, "the configuration never appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(v["webhooks"][0]["failurePolicy"], "Ignore", "{v}");
    assert_eq!(
        v["metadata"]["annotations"]["kubectl-gmsa/requested-failure-policy"],
        "Fail"
    );
    // During the install: plain pods and gMSA pods are still admitted.
    create_pod(&pods_ns, &plain_pod("during")).await.unwrap();
    create_pod(&pods_ns, &webapp01_pod("during-gmsa"))
        .await
        .unwrap();

    let run = run.await.unwrap();
    assert_eq!(run.code, 7, "{run:?}");
    run.stderr_has("stay at failurePolicy Ignore");
    run.stderr_has("re-run install-webhook");
    // After the timeout: still admitted, still Ignore.
    create_pod(&pods_ns, &plain_pod("after")).await.unwrap();
    let v = get(&path).await.unwrap();
    assert_eq!(v["webhooks"][0]["failurePolicy"], "Ignore");
    let m = w.mutating().await;
    assert_eq!(m["webhooks"][0]["failurePolicy"], "Ignore");

    // status reports the install left in that state.
    let s = gmsa(&w.args("status", &["-o", "json"]));
    assert_eq!(s.code, 10, "{s:?}");
    let j: Value = serde_json::from_str(&s.stdout).unwrap();
    assert_eq!(j["webhooks"][1]["requested_failure_policy"], "Fail");
    assert!(
        j["problems"].as_array().unwrap().iter().any(|p| p
            .as_str()
            .unwrap()
            .contains("at failurePolicy Ignore until the webhook answers")),
        "{j}"
    );
    w.cleanup();
    delete_namespace(&pods_ns).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_is_switched_on_once_the_webhook_answers_through_the_api_server() {
    let w = Install::new();
    let no_wait = gmsa(&w.args("install-webhook", &["--no-wait"]));
    no_wait.ok();
    let v = w.validating().await;
    assert_eq!(v["webhooks"][0]["failurePolicy"], "Ignore");

    // Serve the webhook (our stand-in) on the Service's loopback ClusterIP.
    let stub = StubWebhook::serve(&w).await;
    mark_ready(&w.ns, &w.name).await;

    let run = gmsa_in_background(&w.args("install-webhook", &["--timeout", "60s"]))
        .await
        .unwrap();
    let (m, v) = (w.mutating().await, w.validating().await);
    // Uninstall while our stand-in still serves, so no other pod is ever refused.
    w.cleanup();
    drop(stub);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(m["webhooks"][0]["failurePolicy"], "Fail", "{m}");
    assert_eq!(v["webhooks"][0]["failurePolicy"], "Fail", "{v}");
}

/// `uninstall-webhook --dry-run=client` is kubectl's client dry run: it reads the install and
/// lists what would go, and sends no write. A user who may only read gets that list, while a
/// server dry run (which sends the DELETEs with dryRun=All) is refused for the same user; no
/// object changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_dry_run_of_the_uninstall_only_reads() {
    let w = Install::new();
    w.install(&["--no-wait"]).ok();
    let before = versions(&w).await;
    let user = unique("reader");
    let grant = Grant::new(
        &user,
        &user,
        json!([{ "apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list"] }]),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig_as(&user, dir.path());
    let as_reader = |dry: &str| {
        let mut args = vec!["--kubeconfig", kc.to_str().unwrap()];
        args.extend(w.args("uninstall-webhook", &[dry]));
        gmsa_plain(&args)
    };

    let client_run = as_reader("--dry-run=client");
    let server_run = as_reader("--dry-run=server");
    let after = versions(&w).await;
    w.cleanup();
    grant.revoke().await;

    client_run.ok();
    client_run.stdout_has(&format!(
        "deployment.apps/{} -n {} deleted (dry run)",
        w.name, w.ns
    ));
    client_run.stdout_has(&format!(
        "validatingwebhookconfiguration.admissionregistration.k8s.io/{} deleted (dry run)",
        w.name
    ));
    assert_eq!(server_run.code, 5, "{server_run:?}");
    server_run.stderr_has("delete");
    assert_eq!(after, before, "a dry run changed the install");
}
