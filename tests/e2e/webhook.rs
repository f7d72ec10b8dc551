//! `install-webhook`, `status`, `rotate-certs` and `uninstall-webhook` against the real test
//! API server, including the real admission path: a small TLS admission server of our own,
//! on the webhook Service's loopback ClusterIP, serving the key and certificate from the
//! Secret the Deployment mounts, called by the API server through the installed
//! configuration. Every install here uses its own --name and --namespace and
//! `--failure-policy Ignore`, so other tests' pods are never blocked.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gmsa_tests::rbac::Grant;
use gmsa_tests::webhook::*;
use gmsa_tests::*;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, PostParams};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_writes_every_object_and_rerun_changes_nothing() {
    let w = Install::new();
    let run = w.install(&["--no-wait"]);
    run.ok();
    run.stdout_has(&format!("deployment.apps/{} -n {} created", w.name, w.ns));
    run.stdout_has("certificate issued (new CA)");

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
    let role = w.object("clusterroles", "").await;
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
    let d = w.deployment().await;
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
    let pdb = w.object("poddisruptionbudgets", "").await;
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    // The Service on 443.
    let svc = w.object("services", "").await;
    assert_eq!(svc["spec"]["ports"][0]["port"], 443);
    // The webhook configurations.
    let m = w.mutating().await;
    let v = w.validating().await;
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
    let secret = w.tls_secret().await;
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
    again.stdout_has("certificate kept");
    for (p, old) in &before {
        assert_eq!(&rv(&get(p).await.unwrap()), old, "{p} was written again");
    }

    // Upgrade: a new image rolls the Deployment, nothing else changes.
    let up = w.install(&["--no-wait", "--image", "registry.example/gmsa-webhook:v9"]);
    up.ok();
    up.stdout_has(&format!(
        "deployment.apps/{} -n {} configured",
        w.name, w.ns
    ));
    let d = w.deployment().await;
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example/gmsa-webhook:v9"
    );
    assert_eq!(rv(&w.tls_secret().await), before[&w.path("-tls")]);

    // A dry run of the uninstall deletes nothing.
    let dry = gmsa(&w.args("uninstall-webhook", &["--dry-run=server"]));
    dry.ok();
    dry.stdout_has("deleted (server dry run)");
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
        let stub = StubWebhook::serve(&w).await;
        let plain = namespace_labelled(&unique("whpods"), json!({}), &[]).await;
        let opted_out = namespace_labelled(
            &unique("whpods"),
            json!({ "kubectl-gmsa/webhook": "disabled" }),
            &[],
        )
        .await;
        let client = admin().await;

        // The API server picks the configuration up shortly after it is written: create
        // gMSA pods until one reaches our server (each try a new pod).
        let mut first = None;
        for i in 0..120 {
            let name = format!("gmsa-{i}");
            Api::<Pod>::namespaced(client.clone(), &plain)
                .create(&PostParams::default(), &webapp01_pod(&name))
                .await
                .unwrap();
            if stub.called(&plain, &name, "/mutate") {
                first = Some(name);
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let first = first.expect("the API server never called the webhook for a gMSA pod");
        assert!(
            stub.called(&plain, &first, "/validate"),
            "the validating webhook was not called: {:?}",
            stub.seen_now()
        );

        // Excluded: a namespace labelled kubectl-gmsa/webhook=disabled, and the webhook's own.
        for ns in [&opted_out, &w.ns] {
            Api::<Pod>::namespaced(client.clone(), ns)
                .create(&PostParams::default(), &webapp01_pod("excluded"))
                .await
                .unwrap();
        }
        // And the configuration is still in force right after.
        Api::<Pod>::namespaced(client.clone(), &plain)
            .create(&PostParams::default(), &webapp01_pod("after"))
            .await
            .unwrap();
        assert!(
            stub.called(&plain, "after", "/mutate"),
            "the webhook stopped being called"
        );
        let seen_now = stub.seen_now();
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
        drop(stub);
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
    server_run.stdout_has("(server dry run)");
    assert!(!server_run.stdout.contains("PRIVATE KEY"));
    for p in w.objects() {
        assert!(get(&p).await.is_none(), "{p} was written by a dry run");
    }
    assert!(get(&format!("/api/v1/namespaces/{}", w.ns)).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_waits_for_the_deployment_to_be_ready() {
    let w = Install::new();
    let run = gmsa_in_background(&w.args(
        "install-webhook",
        &["--failure-policy", "Ignore", "--timeout", "10m"],
    ));
    // Play the controller: once the Deployment exists, report it ready.
    let api: Api<Deployment> = Api::namespaced(admin().await, &w.ns);
    let (api, name) = (&api, &w.name);
    wait_until("the Deployment never appeared", || async move {
        api.get_opt(name).await.ok().flatten().is_some()
    })
    .await;
    mark_ready(&w.ns, &w.name).await;
    let run = run.await.unwrap();
    run.ok();
    run.stdout_has("webhook ready: 2/2 replicas");
    // Without a terminal, progress is plain lines on stderr.
    run.stderr_has("replicas ready");
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
    run.stderr_has(&format!(
        "0 of 2 replicas of deployment/{} in namespace {} ready",
        w.name, w.ns
    ));
    run.stderr_has("exceeded quota: compute-resources");
    run.stderr_has("--no-wait");

    // The namespace was not ours: uninstall keeps it.
    let un = gmsa(&w.args("uninstall-webhook", &[]));
    un.ok();
    un.stdout_has(&format!("namespace/{} skipped", w.ns));
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
    let specs = gmsa::cluster::objects::credspecs_api(&admin().await);
    specs
        .create(
            &PostParams::default(),
            &serde_json::from_value(resource).unwrap(),
        )
        .await
        .unwrap();
    let run = gmsa(&w.args("uninstall-webhook", &["--purge"]));
    assert_eq!(run.code, 4, "{run:?}");
    run.stderr_has("credential spec(s) exist");
    run.stderr_has("--force");
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
    bad_name.stderr_has("invalid webhook name");

    // No permission: alice has no RBAC at all.
    let alice = gmsa(&w.args("install-webhook", &["--context", "alice", "--no-wait"]));
    assert_eq!(alice.code, 5, "{alice:?}");
    alice.stderr_has("nothing was changed");

    // Unreachable server.
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:9\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: x\ncurrent-context: c\n").unwrap();
    let mut args = vec!["--kubeconfig", kc.to_str().unwrap()];
    args.extend(w.args("install-webhook", &["--no-wait"]));
    let run = gmsa_plain(&args);
    assert_eq!(run.code, 6, "{run:?}");
    run.stderr_has("could not be reached");

    // --cert-manager on a cluster without cert-manager.
    let cm = gmsa(&w.args("install-webhook", &["--cert-manager", "--no-wait"]));
    assert_eq!(cm.code, 3, "{cm:?}");
    cm.stderr_has("does not serve cert-manager.io/v1")
        .stderr_has("nothing was changed");

    for p in w.objects() {
        assert!(get(&p).await.is_none(), "{p} was written despite bad input");
    }
    assert!(get(&format!("/api/v1/namespaces/{}", w.ns)).await.is_none());
}

#[tokio::test]
async fn a_user_who_may_write_everything_but_the_validating_webhook_gets_the_denied_list_and_no_change(
) {
    let w = Install::new();
    let user = unique("installer");
    let rw = ["get", "list", "create", "patch"];
    // Everything install-webhook writes, with `webhook_verbs` on the validating configuration.
    let rules = |webhook_verbs: &[&str]| {
        json!([
            { "apiGroups": [""], "resources": ["namespaces", "serviceaccounts", "secrets", "services"], "verbs": rw },
            { "apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": rw },
            { "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles", "clusterrolebindings"], "verbs": rw },
            { "apiGroups": ["apps"], "resources": ["deployments"], "verbs": rw },
            { "apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": rw },
            { "apiGroups": ["admissionregistration.k8s.io"], "resources": ["mutatingwebhookconfigurations"], "verbs": rw },
            { "apiGroups": ["admissionregistration.k8s.io"], "resources": ["validatingwebhookconfigurations"], "verbs": webhook_verbs }
        ])
    };
    let grant = Grant::new(&user, &user, rules(&["get", "list"])).await;

    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig_as(&user, dir.path());
    let mut args = vec!["--kubeconfig", kc.to_str().unwrap()];
    args.extend(w.args(
        "install-webhook",
        &["--failure-policy", "Ignore", "--no-wait"],
    ));
    let run = gmsa_plain(&args);
    assert_eq!(run.code, 5, "{run:?}");
    run.stderr_has("nothing was changed");
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
    let mut full = rules(&rw);
    // Creating the webhook's own ClusterRole and binding needs what they grant (or escalate/bind).
    full.as_array_mut().unwrap().push(json!({ "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles", "clusterrolebindings"], "verbs": ["escalate", "bind"] }));
    grant.set_rules(full).await;
    let ok = gmsa_plain(&args);
    ok.ok();
    for p in w.objects() {
        assert!(get(&p).await.is_some(), "{p} is missing");
    }

    w.cleanup();
    grant.revoke().await;
}
