//! Our admission webhook, `gmsa-webhook`, on the real admission path: the test API server
//! calls the binary through the configuration `install-webhook --webhook kubectl-gmsa`
//! wrote, for pods created through the API. Each case has its expected allow, deny (and
//! message) or patch. What the 1.20 API server cannot send (the 1.22+ `Pod` shape of
//! pods/ephemeralcontainers, an UPDATE that changes a pod's spec, which the API server's own
//! validation refuses first) goes to the binary directly as AdmissionReviews.

use std::sync::Arc;
use std::time::Duration;

use gmsa_tests::admission::{add_credspec, b64_text, get, gmsa_pod, inlined, Webhook};
use gmsa_tests::webhook::{gmsa_in_background, mark_ready};
use gmsa_tests::*;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, Patch, PatchParams, PostParams};
use rustls_pki_types::pem::PemObject;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Create a pod; `Ok(pod as stored)` or `Err(the API server's message)`.
async fn create(ns: &str, pod: Value) -> Result<Pod, String> {
    let pod: Pod = serde_json::from_value(pod).unwrap();
    Api::<Pod>::namespaced(admin().await, ns)
        .create(&PostParams::default(), &pod)
        .await
        .map_err(|e| match e {
            kube::Error::Api(s) => s.message,
            e => panic!("not an API answer: {e}"),
        })
}

fn pod_json(name: &str, sa: &str) -> Value {
    serde_json::to_value(gmsa_pod(name, sa, json!({}))).unwrap()
}

fn wo(name: Option<&str>, contents: Option<&str>) -> Value {
    let mut o = serde_json::Map::new();
    if let Some(n) = name {
        o.insert("gmsaCredentialSpecName".into(), json!(n));
    }
    if let Some(c) = contents {
        o.insert("gmsaCredentialSpec".into(), json!(c));
    }
    json!({ "windowsOptions": o })
}

fn at_pod(name: &str, sa: &str, options: Value) -> Value {
    let mut p = pod_json(name, sa);
    p["spec"]["securityContext"] = options;
    p
}

fn at_container(name: &str, sa: &str, options: Value) -> Value {
    let mut p = pod_json(name, sa);
    p["spec"]["containers"][0]["securityContext"] = options;
    p
}

fn at_init(name: &str, sa: &str, options: Value) -> Value {
    let mut p = pod_json(name, sa);
    p["spec"]["initContainers"] = json!([{ "name": "setup", "image": "mcr.microsoft.com/windows/servercore:ltsc2022", "securityContext": options }]);
    p
}

fn contents_at(p: &Pod, pointer: &str) -> Option<String> {
    serde_json::to_value(p)
        .unwrap()
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Create `pod` and assert the pod as stored carries `expected` as the contents at `pointer`.
async fn assert_inlined(ns: &str, pod: Value, pointer: &str, expected: &str, what: &str) {
    let p = create(ns, pod).await.unwrap();
    assert_eq!(
        contents_at(&p, pointer).as_deref(),
        Some(expected),
        "{what}"
    );
}

const DENIED: &str =
    "admission webhook \"admission-webhook.windows-gmsa.sigs.k8s.io\" denied the request: ";

fn assert_denied(got: Result<Pod, String>, expected: &str) {
    match got {
        Ok(p) => panic!("admitted, expected a denial ({expected}): {p:?}"),
        Err(m) => {
            assert!(m.starts_with(DENIED), "not our webhook's denial: {m}");
            assert!(m.contains(expected), "expected {expected:?} in: {m}");
        }
    }
}

/// The same document, re-ordered and pretty-printed: semantically equal, byte-different.
fn reformatted(contents: &str) -> String {
    let v: Value = serde_json::from_str(contents).unwrap();
    let mut o: Vec<(String, Value)> = v.as_object().unwrap().clone().into_iter().collect();
    o.reverse();
    let m: serde_json::Map<String, Value> = o.into_iter().collect();
    serde_json::to_string_pretty(&Value::Object(m)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorizes_validates_and_inlines_at_every_place() {
    let w = Webhook::start(&[], &[]).await;
    let ns = w.namespace(&["allowed", "denied"]).await;
    let spec = add_credspec(&ns, &["allowed"]);
    let contents = inlined(&spec).await;
    let named = || wo(Some(&spec), None);

    // At every place: authorized, admitted with the contents inlined byte for byte as upstream
    // does; unauthorized, refused saying where. The unauthorized init container inlines
    // matching contents itself, which is what upstream's v0.13.0 lets through.
    let unauthorized =
        format!("service account \"denied\" is not authorized to `use` GMSA cred spec \"{spec}\"");
    type AtPlace = fn(&str, &str, Value) -> Value;
    let places: [(&str, AtPlace, &str, &str, Value); 3] = [
        (
            "pod",
            at_pod,
            "/spec/securityContext/windowsOptions/gmsaCredentialSpec",
            "set at the pod level",
            named(),
        ),
        (
            "ctr",
            at_container,
            "/spec/containers/0/securityContext/windowsOptions/gmsaCredentialSpec",
            "set on container \"app\"",
            named(),
        ),
        (
            "init",
            at_init,
            "/spec/initContainers/0/securityContext/windowsOptions/gmsaCredentialSpec",
            "set on initContainer \"setup\"",
            wo(Some(&spec), Some(&contents)),
        ),
    ];
    for (prefix, at, pointer, place, denied_options) in places {
        let ok = at(&format!("{prefix}-ok"), "allowed", named());
        assert_inlined(&ns, ok, pointer, &contents, "the webhook's patch").await;
        assert_denied(
            create(&ns, at(&format!("{prefix}-no"), "denied", denied_options)).await,
            &format!("{unauthorized} ({place})"),
        );
    }

    // Inlined contents: equal but formatted differently (kept as given), different, nameless.
    let pretty = reformatted(&contents);
    assert_inlined(
        &ns,
        at_container("same", "allowed", wo(Some(&spec), Some(&pretty))),
        "/spec/containers/0/securityContext/windowsOptions/gmsaCredentialSpec",
        &pretty,
        "the webhook overwrote contents that were already set",
    )
    .await;
    let other = contents.replace("webapp01", "intruder01");
    assert_denied(
        create(&ns, at_container("differs", "allowed", wo(Some(&spec), Some(&other)))).await,
        &format!("the GMSA cred spec contents for container \"app\" does not match the contents of GMSA resource \"{spec}\""),
    );
    assert_denied(
        create(&ns, at_init("nameless", "allowed", wo(None, Some(&contents)))).await,
        "initContainer \"setup\" has a GMSA cred spec set, but does not define the name of the corresponding resource",
    );

    // A credential spec that does not exist (refused by the mutation, which needs its contents).
    assert_denied(
        create(
            &ns,
            at_pod("missing", "allowed", wo(Some("gw-no-such-spec"), None)),
        )
        .await,
        "cred spec gw-no-such-spec does not exist (set at the pod level)",
    );

    // A pod without gMSA: admitted untouched.
    let p = create(&ns, pod_json("plain", "denied")).await.unwrap();
    assert!(
        serde_json::to_value(&p).unwrap()["spec"]["securityContext"]["windowsOptions"].is_null()
    );

    // Every decision was the binary's, and its log says which check refused.
    let checks = |name: &str| -> Vec<String> {
        w.decisions(&ns, name)
            .iter()
            .map(|d| d["check"].as_str().unwrap_or("-").to_owned())
            .collect()
    };
    assert_eq!(
        checks("pod-no"),
        ["-", "authorization"],
        "mutate allows, validate refuses"
    );
    assert_eq!(checks("differs"), ["-", "contents-match"]);
    assert_eq!(checks("missing"), ["credential-spec"]);
    let ok = w.decisions(&ns, "pod-ok");
    assert!(
        ok[0]["patched"] == true && ok[1]["allowed"] == true,
        "{ok:?}"
    );
    let text = std::fs::read_to_string(w.log_path()).unwrap();
    assert!(
        !text.contains("PRIVATE KEY") && !text.contains("token"),
        "the log shows a secret"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_keep_gmsa_settings_and_excluded_namespaces_never_reach_the_webhook() {
    let w = Webhook::start(&[], &[]).await;
    let ns = w.namespace(&["allowed"]).await;
    let spec = add_credspec(&ns, &["allowed"]);
    let api: Api<Pod> = Api::namespaced(admin().await, &ns);
    let created = create(&ns, at_container("upd", "allowed", wo(Some(&spec), None)))
        .await
        .unwrap();

    // An UPDATE that leaves gMSA alone: our validation sees it and allows it.
    api.patch(
        "upd",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
    )
    .await
    .unwrap();
    let upd: Vec<Value> = w
        .decisions(&ns, "upd")
        .into_iter()
        .filter(|d| d["operation"] == "UPDATE")
        .collect();
    assert_eq!(upd.len(), 1, "{upd:?}");
    assert_eq!(upd[0]["allowed"], true);

    // An UPDATE that changes the name through the API: refused (the 1.20 API server's own
    // pod validation refuses spec changes before any validating webhook).
    let changed = api
        .patch("upd", &PatchParams::default(), &Patch::Merge(json!({"spec": {"containers": [{"name": "app", "securityContext": {"windowsOptions": {"gmsaCredentialSpecName": "other"}}}]}})))
        .await;
    assert!(changed.is_err(), "a gMSA change was admitted");

    // The same UPDATEs as AdmissionReviews to the binary: change and removal refused.
    let old = serde_json::to_value(&created).unwrap();
    let mut renamed = old.clone();
    renamed["spec"]["containers"][0]["securityContext"]["windowsOptions"]
        ["gmsaCredentialSpecName"] = json!("other");
    let mut removed = old.clone();
    removed["spec"]["containers"][0]["securityContext"] = json!({});
    for (new, expected) in [
        (&renamed, "cannot update an existing pod's GMSA settings (GMSA name modified on container \"app\")"),
        (&removed, "cannot update an existing pod's GMSA settings (GMSA name and contents modified on container \"app\")"),
    ] {
        let r = review(&w, "/validate", json!({
            "uid": "u-upd", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "operation": "UPDATE", "namespace": ns, "name": "upd", "object": new, "oldObject": old
        })).await;
        assert_eq!(r["response"]["uid"], "u-upd");
        assert_eq!(r["response"]["allowed"], false, "{r}");
        assert_eq!(r["response"]["status"]["message"], expected);
        assert_eq!(r["response"]["status"]["code"], 403);
    }

    // Excluded: the opt-out label, and the webhook's own namespace. A pod no one may use
    // would be refused if the webhook saw it.
    let opted_out = w
        .namespace_labelled(&[], json!({ "kubectl-gmsa/webhook": "disabled" }))
        .await;
    let mut own_labelled = false;
    for ns in [&opted_out, &w.ns] {
        if ns == &w.ns {
            // The webhook's own namespace, labelled into this install's scope.
            let patch =
                json!({"metadata": {"labels": {gmsa_tests::admission::SCOPE_LABEL: w.name}}});
            Api::<Namespace>::all(admin().await)
                .patch(ns, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .unwrap();
            own_labelled = true;
        }
        create(
            ns,
            at_pod("excluded", "nobody", wo(Some("gw-no-such-spec"), None)),
        )
        .await
        .unwrap_or_else(|m| panic!("a pod in excluded namespace {ns} was refused: {m}"));
        assert!(
            w.decisions(ns, "excluded").is_empty(),
            "the webhook saw namespace {ns}"
        );
    }
    assert!(own_labelled);
    // And it still sees the others.
    assert!(
        create(&ns, at_pod("after", "nobody", wo(Some(&spec), None)))
            .await
            .is_err()
    );
}

/// POST an AdmissionReview (v1) straight to the binary, over TLS, trusting the install's CA.
async fn review(w: &Webhook, path: &str, request: Value) -> Value {
    let secret = get(&format!(
        "/api/v1/namespaces/{}/secrets/{}-tls",
        w.ns, w.name
    ))
    .await
    .unwrap();
    let ca: k8s_openapi::ByteString =
        serde_json::from_value(secret["data"]["ca.crt"].clone()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pki_types::CertificateDer::pem_slice_iter(&ca.0) {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect((w.ip.as_str(), 443))
        .await
        .unwrap();
    let name = rustls_pki_types::ServerName::try_from(format!("{}.{}.svc", w.name, w.ns)).unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    let body =
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})
            .to_string();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        w.ip,
        body.len()
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.write_all(body.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out).await;
    let text = String::from_utf8(out).unwrap();
    let (status, rest) = text.split_once("\r\n\r\n").unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    serde_json::from_str(rest).unwrap_or_else(|e| panic!("{e}: {rest}"))
}

fn ephemeral(name: &str, spec: &str) -> Value {
    json!({ "name": name, "image": "mcr.microsoft.com/windows/servercore:ltsc2022",
        "securityContext": { "windowsOptions": { "gmsaCredentialSpecName": spec } } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_containers_are_checked_in_both_shapes() {
    let w = Webhook::start(&[], &[]).await;
    let ns = w.namespace(&["allowed", "denied"]).await;
    let spec = add_credspec(&ns, &["allowed"]);
    let contents = inlined(&spec).await;
    create(&ns, pod_json("dbg-ok", "allowed")).await.unwrap();
    create(&ns, pod_json("dbg-no", "denied")).await.unwrap();

    // 1.20: PUT pods/NAME/ephemeralcontainers with an EphemeralContainers object.
    let client = admin().await;
    let put = |pod: &str, containers: Value| {
        let path = format!("/api/v1/namespaces/{ns}/pods/{pod}/ephemeralcontainers");
        let body = json!({ "apiVersion": "v1", "kind": "EphemeralContainers",
            "metadata": { "name": pod, "namespace": ns }, "ephemeralContainers": containers });
        let client = client.clone();
        async move {
            let req = http::Request::put(&path)
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(&body).unwrap())
                .unwrap();
            client.request_text(req).await.map_err(|e| match e {
                kube::Error::Api(s) => (s.code, s.message),
                e => panic!("{e}"),
            })
        }
    };
    // Through the API server: it sends the subresource to our binary (mutate, then validate),
    // in the EphemeralContainers shape.
    let plain =
        json!([{ "name": "shell", "image": "mcr.microsoft.com/windows/servercore:ltsc2022" }]);
    if let Err((code, m)) = put("dbg-ok", plain).await {
        assert_ne!(code, 404, "the test API server serves no pods/ephemeralcontainers: restart it (scripts/test-cluster.sh stop; ensure) so that it gets --feature-gates=EphemeralContainers=true");
        panic!("a plain ephemeral container was refused: {m}");
    }
    let seen: Vec<Value> = w
        .decisions(&ns, "dbg-ok")
        .into_iter()
        .filter(|d| d["subResource"] == "ephemeralcontainers")
        .collect();
    let endpoints: Vec<&str> = seen
        .iter()
        .map(|d| d["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(endpoints, ["mutate", "validate"], "{seen:?}");
    assert!(seen
        .iter()
        .all(|d| d["allowed"] == true && d["operation"] == "UPDATE"));
    // An ephemeral container with an unauthorized spec: refused. The 1.20 API server forbids
    // any securityContext on an ephemeral container by its own validation, which runs after
    // the mutation (ours saw the request) and before any validating webhook.
    match put("dbg-no", json!([ephemeral("debug", &spec)])).await {
        Err((_, m)) => assert!(m.contains("securityContext: Forbidden"), "{m}"),
        Ok(t) => panic!("an unauthorized ephemeral container was admitted: {t}"),
    }
    assert!(
        w.decisions(&ns, "dbg-no")
            .iter()
            .any(|d| d["subResource"] == "ephemeralcontainers" && d["endpoint"] == "mutate"),
        "the API server did not send the ephemeral container to the webhook"
    );

    // So the rule itself, in the 1.20 shape, as AdmissionReviews exactly as that server sends
    // them: the binary reads each pod's service account from the API server.
    let eph = |pod: &str, e: Vec<Value>| {
        json!({ "apiVersion": "v1", "kind": "EphemeralContainers",
        "metadata": { "name": pod, "namespace": ns }, "ephemeralContainers": e })
    };
    let req20 = |pod: &str, old: Vec<Value>, new: Vec<Value>| {
        json!({
        "uid": "u-20", "kind": {"group": "", "version": "v1", "kind": "EphemeralContainers"},
        "resource": {"group": "", "version": "v1", "resource": "pods"}, "subResource": "ephemeralcontainers",
        "operation": "UPDATE", "namespace": ns, "name": pod, "object": eph(pod, new), "oldObject": eph(pod, old) })
    };
    let r = review(
        &w,
        "/validate",
        req20("dbg-no", vec![], vec![ephemeral("debug", &spec)]),
    )
    .await;
    assert_eq!(r["response"]["allowed"], false, "{r}");
    assert_eq!(
        r["response"]["status"]["message"],
        format!("service account \"denied\" is not authorized to `use` GMSA cred spec \"{spec}\" (set on ephemeralContainer \"debug\")")
    );
    let r = review(
        &w,
        "/validate",
        req20("dbg-ok", vec![], vec![ephemeral("debug", &spec)]),
    )
    .await;
    assert_eq!(r["response"]["allowed"], true, "{r}");
    let r = review(
        &w,
        "/mutate",
        req20("dbg-ok", vec![], vec![ephemeral("debug", &spec)]),
    )
    .await;
    assert_patches(
        &r,
        "/ephemeralContainers/0/securityContext/windowsOptions/gmsaCredentialSpec",
        &contents,
    );

    // 1.22+: the same subresource carries a Pod. Sent as such a server sends it.
    let pod = |e: Vec<Value>, sa: &str| {
        json!({ "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": "p22", "namespace": ns },
        "spec": { "serviceAccountName": sa, "containers": [{ "name": "app", "image": "x" }], "ephemeralContainers": e } })
    };
    let req = |old: Value, new: Value| {
        json!({
        "uid": "u-22", "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"}, "subResource": "ephemeralcontainers",
        "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
        "operation": "UPDATE", "namespace": ns, "name": "p22", "object": new, "oldObject": old })
    };
    // Adding the ephemeral container `debug` naming the spec, to a pod running as `sa`.
    let add_debug = |sa: &str| req(pod(vec![], sa), pod(vec![ephemeral("debug", &spec)], sa));
    let r = review(&w, "/validate", add_debug("denied")).await;
    assert_eq!(r["response"]["allowed"], false, "{r}");
    assert!(
        r["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("(set on ephemeralContainer \"debug\")"),
        "{r}"
    );
    let r = review(&w, "/validate", add_debug("allowed")).await;
    assert_eq!(r["response"]["allowed"], true, "{r}");
    let r = review(&w, "/mutate", add_debug("allowed")).await;
    assert_patches(
        &r,
        "/spec/ephemeralContainers/0/securityContext/windowsOptions/gmsaCredentialSpec",
        &contents,
    );
    // An existing ephemeral container cannot change.
    let mut changed = ephemeral("debug", &spec);
    changed["securityContext"]["windowsOptions"]["gmsaCredentialSpec"] = json!("{}");
    let r = review(
        &w,
        "/validate",
        req(
            pod(vec![ephemeral("debug", &spec)], "allowed"),
            pod(vec![changed], "allowed"),
        ),
    )
    .await;
    assert_eq!(
        r["response"]["status"]["message"],
        "cannot update an existing pod's GMSA settings (GMSA contents modified on ephemeralContainer \"debug\")"
    );
}

/// Assert the AdmissionReview answer's patch sets `contents` at `path`, and nothing else.
fn assert_patches(r: &Value, path: &str, contents: &str) {
    assert_eq!(
        b64_text(&r["response"]["patch"]),
        gmsa::admission::patch_json(&[gmsa::admission::PatchOp {
            path: path.into(),
            value: contents.to_owned(),
        }])
    );
}

/// Rotations with our webhook serving throughout: pods keep being admitted (and inlined)
/// while `rotate-certs` renews the serving certificate, and while `--new-ca` replaces the
/// CA; the binary picks each new key pair up from its files without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_rotation_never_fails_an_admission() {
    let mut w = Webhook::start(&[], &[]).await;
    let ns = w.namespace(&["allowed"]).await;
    let spec = add_credspec(&ns, &["allowed"]);
    let contents = inlined(&spec).await;
    let first = tls_serial(&w).await;

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let creator = {
        let (ns, spec, stop) = (ns.clone(), spec.clone(), stop.clone());
        tokio::spawn(async move {
            let mut results = vec![];
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let r = create(
                    &ns,
                    at_pod(&format!("roll-{i}"), "allowed", wo(Some(&spec), None)),
                )
                .await;
                results.push(r.map(|p| {
                    contents_at(
                        &p,
                        "/spec/securityContext/windowsOptions/gmsaCredentialSpec",
                    )
                }));
                i += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            results
        })
    };
    let mut serials = vec![first.clone()];
    for args in [vec![], vec!["--new-ca"]] {
        tokio::time::sleep(Duration::from_millis(600)).await;
        // rotate-certs waits for the rollout (and with --new-ca then drops the old CA): run
        // it aside and play the kubelet and the controller here.
        let mut a = vec![
            "rotate-certs",
            "--name",
            &w.name,
            "-n",
            &w.ns,
            "--timeout",
            "90s",
        ];
        a.extend_from_slice(&args);
        let rotation = gmsa_in_background(&a);
        let before = serials.last().unwrap().clone();
        let mut want = before.clone();
        for _ in 0..300 {
            want = tls_serial(&w).await;
            if want != before {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_ne!(want, before, "rotate-certs wrote no new certificate");
        // The kubelet updates the mounted Secret; the binary notices the new files.
        w.mount().await;
        let mut served = String::new();
        for _ in 0..100 {
            served = served_serial(&w).await;
            if served == want {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(served, want, "the webhook still serves the old certificate");
        // The pods are ready with it: the controller says so.
        while !rotation.is_finished() {
            mark_ready(&w.ns, &w.name).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let out = rotation.await.unwrap();
        out.ok();
        if !args.is_empty() {
            let m = get(&format!(
                "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/{}",
                w.name
            ))
            .await
            .unwrap();
            let n = b64_text(&m["webhooks"][0]["clientConfig"]["caBundle"])
                .matches("BEGIN CERTIFICATE")
                .count();
            assert_eq!(
                n, 1,
                "the old CA was not dropped:\n{}\n{}",
                out.stdout, out.stderr
            );
        }
        // The Secret may be written again (the CA bundle without the old CA): mount it too.
        w.mount().await;
        serials.push(want);
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let results = creator.await.unwrap();
    assert!(
        results.len() >= 10,
        "too few pods during the roll: {}",
        results.len()
    );
    for (i, r) in results.iter().enumerate() {
        match r {
            Ok(c) => assert_eq!(
                c.as_deref(),
                Some(contents.as_str()),
                "roll-{i} was admitted without the webhook's patch"
            ),
            Err(m) => panic!("roll-{i} failed during the rotation: {m}"),
        }
    }
    assert_eq!(
        serials
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        3,
        "{serials:?}"
    );
    let reloads = w
        .log()
        .iter()
        .filter(|l| l["msg"] == "serving a new certificate")
        .count();
    assert_eq!(reloads, 2);
    assert!(w.running(), "the webhook restarted or died");
    // Graceful stop on SIGTERM.
    let status = w.stop().unwrap();
    assert!(status.success(), "gmsa-webhook exited with {status}");
    assert!(w.log().iter().any(|l| l["msg"] == "stopped"));
}

/// The serial of the certificate in the TLS Secret.
async fn tls_serial(w: &Webhook) -> String {
    let secret = get(&format!(
        "/api/v1/namespaces/{}/secrets/{}-tls",
        w.ns, w.name
    ))
    .await
    .unwrap();
    gmsa::cluster::tls::inspect(&b64_text(&secret["data"]["tls.crt"]))
        .unwrap()
        .serial
}

/// The serial of the certificate the binary serves right now (a TLS handshake).
async fn served_serial(w: &Webhook) -> String {
    #[derive(Debug)]
    struct Any;
    impl rustls::client::danger::ServerCertVerifier for Any {
        fn verify_server_cert(
            &self,
            _: &rustls_pki_types::CertificateDer<'_>,
            _: &[rustls_pki_types::CertificateDer<'_>],
            _: &rustls_pki_types::ServerName<'_>,
            _: &[u8],
            _: rustls_pki_types::UnixTime,
        ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            _: &[u8],
            _: &rustls_pki_types::CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
        }
        fn verify_tls13_signature(
            &self,
            _: &[u8],
            _: &rustls_pki_types::CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            rustls::crypto::ring::default_provider()
                .signature_verification_algorithms
                .supported_schemes()
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .dangerous()
    .with_custom_certificate_verifier(Arc::new(Any))
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect((w.ip.as_str(), 443))
        .await
        .unwrap();
    let name = rustls_pki_types::ServerName::try_from("x.invalid").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    let der = tls.get_ref().1.peer_certificates().unwrap()[0].clone();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        serde_json::to_value(k8s_openapi::ByteString(der.to_vec()))
            .unwrap()
            .as_str()
            .unwrap()
    );
    gmsa::cluster::tls::inspect(&pem).unwrap().serial
}
