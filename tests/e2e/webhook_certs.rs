//! `status` and `rotate-certs` against the real test API server: status tells a healthy
//! install from one with a CA bundle that does not match, an expired certificate or a
//! missing Deployment; a rotation renews the certificate, trusts both CAs during the roll and
//! drops the old CA once the pods are ready. Every install here uses its own --name and
//! --namespace and `--failure-policy Ignore`, so other tests' pods are never blocked.

use std::time::Duration;

use gmsa_tests::webhook::*;
use gmsa_tests::*;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{json, Value};

#[tokio::test]
async fn status_tells_healthy_from_unhealthy() {
    let w = Install::new();
    w.install(&["--no-wait"]).ok();

    // Not ready yet: unhealthy, exit 10.
    let s = gmsa(&w.args("status", &[]));
    assert_eq!(s.code, 10, "{s:?}");
    s.stdout_has("0 of 2 replicas ready");

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
    replace_ca_bundle(&w.name, &other.cert_pem).await;
    let s = gmsa(&w.args("status", &[]));
    assert_eq!(s.code, 10, "{s:?}");
    s.stdout_has("did not sign");
    // install-webhook repairs it.
    w.install(&["--no-wait"]).ok();
    assert_eq!(gmsa(&w.args("status", &[])).code, 0);

    // An expired certificate (signed by the right CA).
    let ca_secret = w.object("secrets", "-ca").await;
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
    s.stdout_has("certificate expired");
    // Re-running the install renews it.
    let again = w.install(&["--no-wait"]);
    again.stdout_has("certificate issued");
    mark_ready(&w.ns, &w.name).await; // the new certificate rolled the pods
    assert_eq!(gmsa(&w.args("status", &[])).code, 0);

    // A missing Deployment.
    Api::<Deployment>::namespaced(admin().await, &w.ns)
        .delete(&w.name, &Default::default())
        .await
        .unwrap();
    let s = gmsa(&w.args("status", &[]));
    assert_eq!(s.code, 10, "{s:?}");
    s.stdout_has(&format!("deployment/{} does not exist", w.name));
    w.cleanup();
}

#[tokio::test]
async fn rotate_certs_renews_and_keeps_both_cas_during_the_roll() {
    let w = Install::new();
    w.install(&["--no-wait"]).ok();
    let old_cert = w.serving_cert().await;
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
    run.stderr_has("issued (new CA)");
    let new_cert = w.serving_cert().await;
    let new_serial = gmsa::cluster::tls::inspect(&new_cert).unwrap().serial;
    assert_ne!(old_serial, new_serial);
    // The bundle trusts old and new, so pods on either certificate are accepted.
    let m = w.mutating().await;
    let bundle = b64_text(&m["webhooks"][0]["clientConfig"]["caBundle"]);
    let server_name = format!("{}.{}.svc", w.name, w.ns);
    let now = gmsa::cluster::tls::now();
    gmsa::cluster::tls::verify(&bundle, &old_cert, &server_name, now)
        .expect("old certificate still trusted");
    gmsa::cluster::tls::verify(&bundle, &new_cert, &server_name, now)
        .expect("new certificate trusted");
    // The pods restart.
    let d = w.deployment().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_certs_with_a_new_ca_drops_the_old_one_once_the_pods_are_ready() {
    let w = Install::new();
    w.install(&["--no-wait"]).ok();
    let d = w.deployment().await;
    let old_serial = d["spec"]["template"]["metadata"]["annotations"]
        ["kubectl-gmsa/certificate-serial"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = gmsa_in_background(&w.args("rotate-certs", &["--new-ca", "--timeout", "10m"]));
    // Play the controller: once the restart is requested, report the new pods ready.
    let (w, old) = (&w, &old_serial);
    wait_until("the Deployment was never restarted", || async move {
        w.deployment().await["spec"]["template"]["metadata"]["annotations"]
            ["kubectl-gmsa/certificate-serial"]
            != old.as_str()
    })
    .await;
    mark_ready(&w.ns, &w.name).await;
    let run = run.await.unwrap();
    run.ok();
    run.stdout_has("certificate issued (new CA)");
    // Only the new CA is trusted now, and it verifies the new certificate.
    let serving = w.serving_cert().await;
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
