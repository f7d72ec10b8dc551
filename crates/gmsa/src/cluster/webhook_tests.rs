//! Unit tests of the webhook's manifests (cluster/webhook.rs): rules, selectors, policies,
//! the Deployment per webhook server, and cert-manager objects.
use super::*;

fn settings(version: ServerVersion, tls: TlsSource) -> WebhookSettings {
    WebhookSettings {
        name: "gmsa-webhook".into(),
        namespace: "gmsa-system".into(),
        image: DEFAULT_IMAGE.into(),
        server: WebhookServer::Upstream,
        replicas: 2,
        tolerate_control_plane: true,
        node_selector: parse_node_selector(&["pool=infra".into()]).unwrap(),
        failure_policy: FailurePolicy::Ignore,
        manage_namespace: true,
        server_version: version,
        tls,
    }
}

fn generated() -> TlsSource {
    let ca = tls::generate_ca("ca", std::time::Duration::from_secs(86_400)).unwrap();
    let serving = tls::issue_serving(
        &ca,
        &tls::service_dns_names("gmsa-webhook", "gmsa-system"),
        std::time::Duration::from_secs(86_400),
    )
    .unwrap();
    TlsSource::Generated {
        ca_bundle: ca.cert_pem.clone(),
        ca,
        serving,
    }
}

fn find<'a>(objs: &'a [(ObjectRef, Value)], kind: &str) -> &'a Value {
    &objs
        .iter()
        .find(|(r, _)| r.kind == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
        .1
}

#[test]
fn server_versions() {
    assert_eq!(
        ServerVersion::parse("v1.28.3"),
        Some(ServerVersion {
            major: 1,
            minor: 28
        })
    );
    assert_eq!(
        ServerVersion::from_info("1", "27+", ""),
        Some(ServerVersion {
            major: 1,
            minor: 27
        })
    );
    assert!(ServerVersion::parse("1.28").unwrap().has_match_conditions());
    assert!(!ServerVersion::parse("1.27").unwrap().has_match_conditions());
    assert_eq!(
        ServerVersion::parse("1.20").unwrap().pdb_api_version(),
        "policy/v1beta1"
    );
    assert_eq!(
        ServerVersion::parse("1.21").unwrap().pdb_api_version(),
        "policy/v1"
    );
}

#[test]
fn match_conditions_only_from_1_28() {
    for (v, expected) in [
        ("1.20", false),
        ("1.27", false),
        ("1.28", true),
        ("1.33", true),
    ] {
        let objs = manifests(&settings(ServerVersion::parse(v).unwrap(), generated()));
        for kind in [
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
        ] {
            let hook = &find(&objs, kind)["webhooks"][0];
            assert_eq!(
                hook.get("matchConditions").is_some(),
                expected,
                "{kind} on {v}"
            );
        }
    }
    let objs = manifests(&settings(ServerVersion::NEWEST, generated()));
    let m = find(&objs, "MutatingWebhookConfiguration")["webhooks"][0]["matchConditions"][0]
        ["expression"]
        .as_str()
        .unwrap()
        .to_owned();
    for field in [
        "object.spec.securityContext.windowsOptions.gmsaCredentialSpecName",
        "object.spec.containers.exists(",
        "object.spec.initContainers.exists(",
        "object.spec.ephemeralContainers.exists(",
        "gmsaCredentialSpec)",
    ] {
        assert!(m.contains(field), "{field} missing from {m}");
    }
    assert!(!m.contains("oldObject"));
    let v = find(&objs, "ValidatingWebhookConfiguration")["webhooks"][0]["matchConditions"][0]
        ["expression"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        v.contains("request.operation == 'UPDATE' && ((has(oldObject.spec.securityContext)"),
        "{v}"
    );
}

#[test]
fn webhooks_are_scoped_and_carry_the_ca() {
    let s = settings(ServerVersion::parse("1.20").unwrap(), generated());
    let objs = manifests(&s);
    let m = &find(&objs, "MutatingWebhookConfiguration")["webhooks"][0];
    assert_eq!(m["failurePolicy"], "Ignore");
    assert_eq!(m["clientConfig"]["service"]["path"], "/mutate");
    assert_eq!(m["rules"][0]["operations"], json!(["CREATE"]));
    let v = &find(&objs, "ValidatingWebhookConfiguration")["webhooks"][0];
    assert_eq!(v["clientConfig"]["service"]["path"], "/validate");
    assert_eq!(v["rules"][0]["operations"], json!(["CREATE", "UPDATE"]));
    let exprs = &m["namespaceSelector"]["matchExpressions"];
    assert_eq!(exprs[0]["values"], json!(["kube-system", "gmsa-system"]));
    assert_eq!(exprs[1]["key"], OPT_OUT_LABEL);
    let ns = find(&objs, "Namespace");
    assert_eq!(ns["metadata"]["labels"][OPT_OUT_LABEL], OPT_OUT_VALUE);
    let TlsSource::Generated { ca, .. } = &s.tls else {
        unreachable!()
    };
    assert_eq!(m["clientConfig"]["caBundle"], b64(ca.cert_pem.as_bytes()));
    assert_eq!(
        find(&objs, "PodDisruptionBudget")["apiVersion"],
        "policy/v1beta1"
    );
    assert_eq!(objs[0].0.kind, "CustomResourceDefinition");
    assert_eq!(
        objs.last().unwrap().0.kind,
        "ValidatingWebhookConfiguration"
    );
}

#[test]
fn deployment_runs_the_upstream_image_safely() {
    let objs = manifests(&settings(ServerVersion::NEWEST, generated()));
    let d = find(&objs, "Deployment");
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(
        pod["nodeSelector"],
        json!({ "kubernetes.io/os": "linux", "pool": "infra" })
    );
    assert_eq!(pod["tolerations"].as_array().unwrap().len(), 2);
    let c = &pod["containers"][0];
    assert_eq!(
        c["env"],
        json!([{ "name": "TLS_KEY", "value": "/tls/tls.key" }, { "name": "TLS_CRT", "value": "/tls/tls.crt" }])
    );
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/health");
    assert_eq!(
        pod["volumes"][0]["secret"]["secretName"],
        "gmsa-webhook-tls"
    );
    assert!(d["spec"]["template"]["metadata"]["annotations"][CERT_SERIAL_ANNOTATION].is_string());
    assert_eq!(
        find(&objs, "Service")["spec"]["ports"][0]["protocol"],
        "TCP"
    );
}

#[test]
fn our_webhook_runs_non_root_on_8443_and_also_sees_ephemeral_containers() {
    let mut set = settings(ServerVersion::NEWEST, generated());
    let upstream = manifests(&set);
    set.server = WebhookServer::KubectlGmsa;
    set.image = OUR_IMAGE.into();
    let objs = manifests(&set);
    let d = find(&objs, "Deployment");
    assert_eq!(
        d["metadata"]["annotations"][SERVER_ANNOTATION],
        "kubectl-gmsa"
    );
    assert!(find(&upstream, "Deployment")["metadata"]
        .get("annotations")
        .is_none());
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let c = &pod["containers"][0];
    assert_eq!(c["image"], OUR_IMAGE);
    assert_eq!(c["ports"][0]["containerPort"], 8443);
    assert_eq!(c["readinessProbe"]["httpGet"]["port"], 8443);
    assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(
        find(&objs, "Service")["spec"]["ports"][0]["targetPort"],
        8443
    );
    assert_eq!(
        find(&upstream, "Service")["spec"]["ports"][0]["targetPort"],
        443
    );
    for kind in [
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ] {
        let rules = &find(&objs, kind)["webhooks"][0]["rules"];
        assert_eq!(rules[1]["resources"], json!(["pods/ephemeralcontainers"]));
        assert_eq!(rules[1]["operations"], json!(["UPDATE"]));
        assert_eq!(
            find(&upstream, kind)["webhooks"][0]["rules"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
    let role = &find(&objs, "ClusterRole")["rules"];
    assert_eq!(
        role[2],
        json!({ "apiGroups": [""], "resources": ["pods"], "verbs": ["get"] })
    );
    assert_eq!(
        find(&upstream, "ClusterRole")["rules"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn cert_manager_replaces_the_secrets() {
    let objs = manifests(&settings(
        ServerVersion::NEWEST,
        TlsSource::CertManager {
            duration_hours: 8760,
        },
    ));
    assert!(!objs.iter().any(|(r, _)| r.kind == "Secret"));
    let kinds: Vec<&str> = objs.iter().map(|(r, _)| r.kind.as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "Issuer").count(), 2);
    assert_eq!(kinds.iter().filter(|k| **k == "Certificate").count(), 2);
    let m = find(&objs, "MutatingWebhookConfiguration");
    assert_eq!(
        m["metadata"]["annotations"][CERT_MANAGER_INJECT],
        "gmsa-system/gmsa-webhook"
    );
    assert!(m["webhooks"][0]["clientConfig"].get("caBundle").is_none());
    let cert = objs
        .iter()
        .find(|(r, _)| r.kind == "Certificate" && r.name == "gmsa-webhook")
        .unwrap();
    assert_eq!(cert.1["spec"]["secretName"], "gmsa-webhook-tls");
    assert_eq!(
        cert.1["spec"]["dnsNames"][2],
        "gmsa-webhook.gmsa-system.svc"
    );
}
