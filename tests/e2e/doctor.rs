//! `doctor` and `attach` against the real test API server and the real Samba DC. Each broken
//! setup of issue 14 is built for real and the exact failing check and its fix asserted; one
//! healthy setup passes with exit 0; `attach` then `doctor` on the same workload passes, and
//! a second `attach` changes nothing. Every test uses its own namespace, credential spec,
//! webhook installation (`--failure-policy Ignore`) and gMSA.

use std::time::Duration;

use gmsa_tests::dc::{dc, gmsa_dc, unique_account, Login};
use gmsa_tests::webhook::{replace_ca_bundle, Install};
use gmsa_tests::*;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

/// A healthy setup: a gMSA in the DC (allowed: WebHosts), its credential spec in the cluster
/// bound to the service account `app`, a ready webhook installation of the test's own, a
/// Deployment that selects Windows nodes and names the spec, and one pod of it carrying the
/// contents the webhook would have inlined.
struct Setup {
    ns: String,
    credspec: String,
    account: String,
    webhook: Install,
    spec: Value,
    _dir: tempfile::TempDir,
}

fn credspecs_api(client: kube::Client) -> Api<DynamicObject> {
    gmsa::cluster::objects::credspecs_api(&client)
}

fn template(credspec: Option<&str>, windows: bool, labels: &Value) -> Value {
    let mut spec = json!({
        "serviceAccountName": "app",
        "automountServiceAccountToken": false,
        "dnsConfig": { "nameservers": ["127.0.0.1"] },
        "containers": [{ "name": "app", "image": "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022" }]
    });
    if let Some(c) = credspec {
        spec["securityContext"] = json!({ "windowsOptions": { "gmsaCredentialSpecName": c } });
    }
    if windows {
        spec["nodeSelector"] = json!({ "kubernetes.io/os": "windows" });
    }
    json!({ "metadata": { "labels": labels }, "spec": spec })
}

async fn create_deployment(ns: &str, name: &str, replicas: i64, template: Value) {
    let labels = template["metadata"]["labels"].clone();
    let d: Deployment = serde_json::from_value(json!({
        "metadata": { "name": name, "namespace": ns },
        "spec": { "replicas": replicas, "selector": { "matchLabels": labels }, "template": template }
    }))
    .unwrap();
    Api::<Deployment>::namespaced(admin().await, ns)
        .create(&PostParams::default(), &d)
        .await
        .unwrap();
}

/// A pod of the template, with the contents `inline` in its pod-level windowsOptions.
async fn create_pod(ns: &str, name: &str, template: &Value, inline: Option<String>) {
    let mut spec = template["spec"].clone();
    if let Some(c) = inline {
        spec["securityContext"]["windowsOptions"]["gmsaCredentialSpec"] = json!(c);
    }
    let p: Pod = serde_json::from_value(json!({ "metadata": { "name": name, "namespace": ns, "labels": template["metadata"]["labels"] }, "spec": spec })).unwrap();
    Api::<Pod>::namespaced(admin().await, ns)
        .create(&PostParams::default(), &p)
        .await
        .unwrap();
}

async fn resource(name: &str) -> Value {
    serde_json::to_value(credspecs_api(admin().await).get(name).await.unwrap()).unwrap()
}

impl Setup {
    async fn new() -> Setup {
        install_crd().await;
        let d = dc();
        let dir = tempfile::tempdir().unwrap();
        let account = unique_account("dr");
        let mut a = vec![
            "create-account".to_owned(),
            account.clone(),
            "--allowed-principal".into(),
            "WebHosts".into(),
        ];
        a.extend(d.flags());
        gmsa_dc(
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
            Some(d.admin()),
        )
        .ok();
        let file = dir.path().join("spec.json");
        let mut a = vec![
            "new-credspec".to_owned(),
            "--account".into(),
            account.clone(),
            "--file".into(),
            file.display().to_string(),
        ];
        a.extend(d.flags());
        gmsa_dc(
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
            Some(d.admin()),
        )
        .ok();
        let spec: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let ns = namespace(&["app"]).await;
        let credspec = unique("dcs");
        gmsa(&[
            "add-credspec",
            "--credspec-file",
            &file.display().to_string(),
            "--credspec-name",
            &credspec,
            "--service-account",
            "app",
            "-n",
            &ns,
        ])
        .ok();
        let webhook = Install::new();
        webhook.install_ready().await;
        let s = Setup {
            ns,
            credspec,
            account,
            webhook,
            spec,
            _dir: dir,
        };
        let labels = json!({ "app": "web" });
        let t = template(Some(&s.credspec), true, &labels);
        create_deployment(&s.ns, "web", 2, t.clone()).await;
        create_pod(&s.ns, "web-1", &t, Some(s.inline().await)).await;
        s
    }

    async fn inline(&self) -> String {
        gmsa::admission::inline_contents(&self.credspec, &resource(&self.credspec).await).unwrap()
    }

    /// `doctor OBJECT -n NS` with the test's webhook, `-o json`, plus `extra`.
    fn doctor(&self, object: &str, extra: &[&str]) -> (i32, Value) {
        parse_checklist(&self.doctor_run(object, extra, None))
    }

    /// `doctor` with the DC (LDAPS, the test CA) bound as alice (a member of WebHosts).
    fn doctor_ad(&self, object: &str, extra: &[&str]) -> (i32, Value) {
        let d = dc();
        let mut more = d.flags();
        more.extend(extra.iter().map(|s| s.to_string()));
        let more: Vec<&str> = more.iter().map(String::as_str).collect();
        parse_checklist(&self.doctor_run(object, &more, Some(d.alice())))
    }

    /// Run `doctor OBJECT -n NS -o json` with the test's webhook plus `extra`, bound as `login`.
    fn doctor_run(&self, object: &str, extra: &[&str], login: Option<Login<'_>>) -> Run {
        let kc = cluster().kubeconfig.display().to_string();
        let mut a: Vec<&str> = vec![
            "--kubeconfig",
            &kc,
            "doctor",
            object,
            "-n",
            &self.ns,
            "--webhook-name",
            &self.webhook.name,
            "--webhook-namespace",
            &self.webhook.ns,
            "-o",
            "json",
        ];
        a.extend_from_slice(extra);
        gmsa_dc(&a, login)
    }

    /// `attach OBJECT -n NS --credspec-name CREDSPEC` plus `extra`.
    fn attach(&self, object: &str, credspec: &str, extra: &[&str]) -> Run {
        let mut a = vec![
            "attach",
            object,
            "-n",
            &self.ns,
            "--credspec-name",
            credspec,
        ];
        a.extend_from_slice(extra);
        gmsa(&a)
    }

    fn cleanup(&self) {
        self.webhook.cleanup();
    }
}

/// doctor's `-o json` checklist and its exit code; panics with the output when it is not JSON.
fn parse_checklist(r: &Run) -> (i32, Value) {
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|_| panic!("JSON from doctor\n{}\n{}", r.stdout, r.stderr));
    (r.code, v)
}

/// The checks with this id (and, when given, a subject containing `subject`).
fn checks<'a>(v: &'a Value, id: &str, subject: &str) -> Vec<&'a Value> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == id && c["subject"].as_str().unwrap().contains(subject))
        .collect()
}

/// The one check with this id (and subject); panics with the whole checklist otherwise.
fn check<'a>(v: &'a Value, id: &str, subject: &str) -> &'a Value {
    let c = checks(v, id, subject);
    assert!(!c.is_empty(), "no check {id} on {subject} in {v:#}");
    c[0]
}

fn assert_fails(v: &Value, id: &str, subject: &str, fix_contains: &str) {
    let c = check(v, id, subject);
    assert_eq!(c["status"], "fail", "{id}: {c:#}\n{v:#}");
    assert!(
        c["fix"].as_str().unwrap_or_default().contains(fix_contains),
        "{id}: fix should contain {fix_contains:?}: {c:#}"
    );
    assert_eq!(v["passed"], false);
}

/// Every check that is not pass, skipped, or the one known warning of the test DC (no SMB).
fn not_passing(v: &Value) -> Vec<&Value> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "pass" && c["status"] != "skipped")
        .filter(|c| {
            !(c["check"] == "dc-ports"
                && c["status"] == "warn"
                && c["message"].as_str().unwrap().contains("445 (SMB)"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_setup_passes_every_check_and_exits_0() {
    let s = Setup::new().await;
    let (code, v) = s.doctor_ad("deployment/web", &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["passed"], true);
    assert!(not_passing(&v).is_empty(), "{:#?}", not_passing(&v));
    // Every layer was looked at, and the workload's pod carries the contents.
    for (id, subject) in [
        ("exists", "gmsa/"),
        ("allowed-principals", "gmsa/"),
        ("password-readable", "gmsa/"),
        ("domain-sid", "credspec/"),
        ("netbios-name", "credspec/"),
        ("srv-records-udp", "dns/"),
        ("srv-records-tcp", "dns/"),
        ("crd-served", ""),
        ("webhook-ready", "webhook/"),
        ("ca-bundle", "mutatingwebhookconfiguration/"),
        ("ca-bundle", "validatingwebhookconfiguration/"),
        ("credspec-lint", "credspec/"),
        ("ccg-plugin", "credspec/"),
        ("service-account-may-use", "deployment/"),
        ("windows-nodes", "deployment/"),
        ("inlined-contents", "pod/"),
        ("dns", "deployment/"),
    ] {
        assert_eq!(
            check(&v, id, subject)["status"],
            "pass",
            "{id} {subject}: {v:#}"
        );
    }
    assert_eq!(check(&v, "in-container", "")["status"], "skipped");
    // The text form: grouped by layer, exit 0.
    let r = gmsa(&[
        "doctor",
        "deployment/web",
        "-n",
        &s.ns,
        "--webhook-name",
        &s.webhook.name,
        "--webhook-namespace",
        &s.webhook.ns,
    ]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    for heading in ["\ncluster\n", "\nworkload\n", "\ndirectory\n"] {
        assert!(r.stdout.contains(heading), "{heading:?} in\n{}", r.stdout);
    }
    r.stdout_has("PASS  service-account-may-use");
    s.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_cluster_and_workload_setups_name_the_failing_check_and_its_fix() {
    let s = Setup::new().await;
    let client = admin().await;
    let (code, v) = s.doctor("deployment/web", &[]);
    assert_eq!(code, 0, "the healthy base: {v:#}");

    // The service account is not bound.
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), &s.ns);
    for b in bindings.list(&ListParams::default()).await.unwrap().items {
        bindings
            .delete(b.metadata.name.as_deref().unwrap(), &Default::default())
            .await
            .unwrap();
    }
    let (code, v) = s.doctor("deployment/web", &[]);
    assert_eq!(code, 10, "{v:#}");
    assert_fails(
        &v,
        "service-account-may-use",
        "deployment/",
        &format!(
            "kubectl gmsa attach deployment/web -n {} --credspec-name {} --bind",
            s.ns, s.credspec
        ),
    );

    // The webhook is missing (another name).
    let kc = cluster().kubeconfig.display().to_string();
    let r = gmsa_dc(
        &[
            "--kubeconfig",
            &kc,
            "doctor",
            "credspec/no-such-spec-x",
            "--webhook-name",
            "no-such-webhook",
            "--webhook-namespace",
            &s.webhook.ns,
            "-o",
            "json",
        ],
        None,
    );
    let w: Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{}\n{}", r.stdout, r.stderr));
    assert_eq!(r.code, 10);
    assert_fails(
        &w,
        "webhook-installed",
        "webhook/",
        "kubectl gmsa install-webhook --name no-such-webhook",
    );
    assert_fails(
        &w,
        "credspec-exists",
        "credspec/no-such-spec-x",
        "kubectl gmsa add-credspec",
    );

    // A CA bundle that does not verify the serving certificate.
    let other = gmsa::cluster::tls::generate_ca("other", Duration::from_secs(86_400)).unwrap();
    replace_ca_bundle(&s.webhook.name, &other.cert_pem).await;
    let (_, v) = s.doctor("deployment/web", &[]);
    assert_fails(
        &v,
        "ca-bundle",
        "mutatingwebhookconfiguration/",
        "kubectl gmsa rotate-certs",
    );
    assert_eq!(
        check(&v, "ca-bundle", "validatingwebhookconfiguration/")["status"],
        "pass"
    );

    // A workload without the Windows selector; one with a fixed hostname and 3 replicas.
    let labels = json!({ "app": "nosel" });
    create_deployment(
        &s.ns,
        "nosel",
        1,
        template(Some(&s.credspec), false, &labels),
    )
    .await;
    let (_, v) = s.doctor("deployment/nosel", &[]);
    assert_fails(
        &v,
        "windows-nodes",
        "deployment/",
        "kubectl gmsa attach deployment/nosel",
    );
    let mut t = template(Some(&s.credspec), true, &json!({ "app": "fixed" }));
    t["spec"]["hostname"] = json!("web");
    create_deployment(&s.ns, "fixed", 3, t).await;
    let (_, v) = s.doctor("deployment/fixed", &[]);
    assert_fails(
        &v,
        "fixed-hostname",
        "deployment/",
        "remove spec.template.spec.hostname",
    );
    assert!(check(&v, "fixed-hostname", "")["message"]
        .as_str()
        .unwrap()
        .contains("(3)"));

    // A pod whose inlined contents differ from the resource (a stale copy).
    let labels = json!({ "app": "stale" });
    let t = template(Some(&s.credspec), true, &labels);
    create_deployment(&s.ns, "stale", 1, t.clone()).await;
    let stale = s.inline().await.replace(&s.account, "someoneelse");
    create_pod(&s.ns, "stale-1", &t, Some(stale)).await;
    let (_, v) = s.doctor("deployment/stale", &[]);
    assert_fails(
        &v,
        "inlined-contents",
        "pod/",
        "kubectl rollout restart deployment/stale",
    );
    assert!(check(&v, "inlined-contents", "pod/")["message"]
        .as_str()
        .unwrap()
        .contains("stale copy"));

    // An unknown PluginGUID, and a Rancher plug-in whose Secret is missing.
    let specs = credspecs_api(client.clone());
    for (name, guid, input) in [
        (
            format!("{}-unk", s.credspec),
            "{11111111-2222-3333-4444-555555555555}",
            "whatever".to_owned(),
        ),
        (
            format!("{}-ran", s.credspec),
            "{E4781092-F116-4B79-B55E-28EB6A224E26}",
            format!("{}:ccg-user", s.ns),
        ),
    ] {
        let mut spec = s.spec.clone();
        spec["ActiveDirectoryConfig"]["HostAccountConfig"] =
            json!({ "PortableCcgVersion": "1", "PluginGUID": guid, "PluginInput": input });
        let obj: DynamicObject = serde_json::from_value(json!({ "apiVersion": "windows.k8s.io/v1", "kind": "GMSACredentialSpec", "metadata": { "name": name }, "credspec": spec })).unwrap();
        specs.create(&PostParams::default(), &obj).await.unwrap();
    }
    let (_, v) = s.doctor(&format!("credspec/{}-unk", s.credspec), &[]);
    assert_fails(
        &v,
        "ccg-plugin",
        "credspec/",
        "{CCC2A336-D7F3-4818-A213-272B7924213E}",
    );
    let (_, v) = s.doctor(&format!("credspec/{}-ran", s.credspec), &[]);
    assert_fails(
        &v,
        "plugin-secret",
        "credspec/",
        &format!("kubectl gmsa create-secret ccg-user -n {}", s.ns),
    );
    // Once the Secret exists with its keys, that check passes (and its values are never shown).
    gmsa_with_stdin(
        &[
            "create-secret",
            "ccg-user",
            "-n",
            &s.ns,
            "--domain",
            "gmsa.test",
            "--username",
            "ccg",
            "--password-stdin",
        ],
        Some("S3cret-Value-1\n"),
    )
    .ok();
    let r = s.doctor_run(&format!("credspec/{}-ran", s.credspec), &[], None);
    assert!(!r.stdout.contains("S3cret-Value-1") && !r.stderr.contains("S3cret-Value-1"));
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(check(&v, "plugin-secret", "")["status"], "pass", "{v:#}");
    s.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_directory_setups_name_the_failing_check_and_its_fix() {
    let s = Setup::new().await;
    let client = admin().await;
    let specs = credspecs_api(client.clone());
    // The gMSA's own SID in DomainJoinConfig.Sid.
    let d = dc();
    let gmsa_sid = d
        .ldbsearch(
            d.base_dn(),
            "sub",
            &format!("(sAMAccountName={}$)", s.account),
            &["objectSid"],
        )
        .remove(0)["objectSid"][0]
        .clone();
    let mut spec = s.spec.clone();
    let domain_sid = spec["DomainJoinConfig"]["Sid"].as_str().unwrap().to_owned();
    spec["DomainJoinConfig"]["Sid"] = json!(gmsa_sid);
    let mk = |name: String, spec: Value| async move {
        let obj: DynamicObject = serde_json::from_value(json!({ "apiVersion": "windows.k8s.io/v1", "kind": "GMSACredentialSpec", "metadata": { "name": name }, "credspec": spec })).unwrap();
        credspecs_api(admin().await)
            .create(&PostParams::default(), &obj)
            .await
            .unwrap();
    };
    mk(format!("{}-sid", s.credspec), spec).await;
    let (code, v) = s.doctor_ad(&format!("credspec/{}-sid", s.credspec), &[]);
    assert_eq!(code, 10);
    assert_fails(
        &v,
        "domain-sid",
        "credspec/",
        &format!("Sid to {domain_sid}"),
    );
    assert!(
        check(&v, "domain-sid", "")["message"]
            .as_str()
            .unwrap()
            .contains("the gMSA's own SID"),
        "{v:#}"
    );

    // A spec naming a gMSA that is not in the directory.
    let ghost = unique_account("gh");
    let mut spec = s.spec.clone();
    spec["DomainJoinConfig"]["MachineAccountName"] = json!(ghost);
    spec["ActiveDirectoryConfig"]["GroupManagedServiceAccounts"] = json!([{ "Name": ghost, "Scope": spec["DomainJoinConfig"]["DnsName"] }, { "Name": ghost, "Scope": spec["DomainJoinConfig"]["NetBiosName"] }]);
    mk(format!("{}-gh", s.credspec), spec).await;
    let (_, v) = s.doctor_ad(&format!("credspec/{}-gh", s.credspec), &[]);
    assert_fails(
        &v,
        "exists",
        &format!("gmsa/{ghost}"),
        &format!("kubectl gmsa create-account {ghost}"),
    );

    // A ccg plug-in whose domain user may not read the gMSA's password (bob is in no group).
    let mut spec = s.spec.clone();
    spec["ActiveDirectoryConfig"]["HostAccountConfig"] = json!({ "PortableCcgVersion": "1", "PluginGUID": "{E4781092-F116-4B79-B55E-28EB6A224E26}", "PluginInput": format!("{}:ccg-user", s.ns) });
    mk(format!("{}-pa", s.credspec), spec).await;
    let bob = d.bob().user.split('@').next().unwrap().to_owned();
    let (_, v) = s.doctor_ad(
        &format!("credspec/{}-pa", s.credspec),
        &["--plugin-account", &bob],
    );
    assert_fails(
        &v,
        "plugin-account",
        &format!("user/{bob}"),
        "-PrincipalsAllowedToRetrieveManagedPassword",
    );
    // alice (a member of WebHosts) may.
    let alice = d.alice().user.split('@').next().unwrap().to_owned();
    let (_, v) = s.doctor_ad(
        &format!("credspec/{}-pa", s.credspec),
        &["--plugin-account", &alice],
    );
    assert_eq!(check(&v, "plugin-account", "")["status"], "pass", "{v:#}");
    let _ = specs;
    s.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_then_doctor_passes_and_a_second_attach_changes_nothing() {
    let s = Setup::new().await;
    let labels = json!({ "app": "plain" });
    create_deployment(&s.ns, "plain", 2, template(None, false, &labels)).await;
    // Bindings exist for `app` from add-credspec; use another service account to need --bind.
    let api: Api<Deployment> = Api::namespaced(admin().await, &s.ns);
    api.patch(
        "plain",
        &PatchParams::default(),
        &Patch::Merge(
            json!({ "spec": { "template": { "spec": { "serviceAccountName": "other" } } } }),
        ),
    )
    .await
    .unwrap();
    let (code, v) = s.doctor("deployment/plain", &[]);
    assert_eq!(code, 10);
    assert_fails(
        &v,
        "gmsa-setting",
        "deployment/",
        "kubectl gmsa attach deployment/plain",
    );

    // Client dry run: the apply configuration for GitOps, nothing written, no server asked.
    let r = s.attach(
        "deployment/plain",
        &s.credspec,
        &["--dry-run=client", "-o", "yaml"],
    );
    r.ok();
    r.stdout_has(&format!("gmsaCredentialSpecName: {}", s.credspec));
    r.stdout_has("kubernetes.io/os: windows");
    let before = api.get("plain").await.unwrap();
    assert!(serde_json::to_string(&before.spec)
        .unwrap()
        .find("gmsaCredentialSpecName")
        .is_none());

    let r = s.attach("deployment/plain", &s.credspec, &["--bind"]);
    r.ok();
    r.stdout_has("deployment.apps/plain -n");
    r.stdout_has(" configured");
    r.stdout_has("rolebinding.rbac.authorization.k8s.io/");
    let (_, v) = s.doctor("deployment/plain", &[]);
    for id in [
        "credspec-exists",
        "service-account-may-use",
        "windows-nodes",
        "fixed-hostname",
        "run-as-user",
    ] {
        assert_eq!(
            check(&v, id, "deployment/")["status"],
            "pass",
            "{id}: {v:#}"
        );
    }
    assert!(checks(&v, "gmsa-setting", "").is_empty(), "{v:#}");
    let rv = api.get("plain").await.unwrap().metadata.resource_version;

    let again = s.attach("deployment/plain", &s.credspec, &["--bind"]);
    again.ok();
    again
        .stdout_has("deployment.apps/plain -n")
        .stdout_has(" unchanged");
    assert!(
        !again.stdout.contains(" configured") && !again.stdout.contains(" created"),
        "{}",
        again.stdout
    );
    assert_eq!(
        api.get("plain").await.unwrap().metadata.resource_version,
        rv
    );

    // Bad input: nothing written.
    let bad = s.attach("deployment/plain", "no-such-spec", &["--bind"]);
    assert_eq!(bad.code, 3, "{bad:?}");
    bad.stderr_has("does not exist");
    assert_eq!(
        api.get("plain").await.unwrap().metadata.resource_version,
        rv
    );
    let bad = s.attach("pod/web-1", &s.credspec, &[]);
    assert_eq!(bad.code, 2, "{bad:?}");
    s.cleanup();
}

/// The in-container checks where they can run here: a pod that is not running, a pod on a
/// Linux node, and a Windows pod whose exec the API server cannot carry out (no kubelet).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_paths_that_can_run_here() {
    let s = Setup::new().await;
    let client = admin().await;
    // web-1 is Pending (no scheduler): nothing to exec into.
    let (_, v) = s.doctor("pod/web-1", &["--exec"]);
    let c = check(&v, "in-container", "pod/");
    assert_eq!(c["status"], "skipped", "{v:#}");
    assert!(c["message"].as_str().unwrap().contains("not Running"));

    // Two nodes of our own (no kubelet behind them): one Linux, one Windows.
    let nodes: Api<Node> = Api::all(client.clone());
    let mut names = vec![];
    for os in ["linux", "windows"] {
        let name = unique(&format!("node-{os}"));
        let n: Node = serde_json::from_value(
            json!({ "metadata": { "name": name, "labels": { "kubernetes.io/os": os } } }),
        )
        .unwrap();
        nodes.create(&PostParams::default(), &n).await.unwrap();
        names.push(name);
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), &s.ns);
    let t = template(Some(&s.credspec), true, &json!({ "app": "exec" }));
    for (pod, node) in [("on-linux", &names[0]), ("on-windows", &names[1])] {
        let mut t = t.clone();
        t["spec"]["nodeName"] = json!(node);
        create_pod(&s.ns, pod, &t, Some(s.inline().await)).await;
        pods.patch_status(
            pod,
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": { "phase": "Running" } })),
        )
        .await
        .unwrap();
    }
    let (_, v) = s.doctor("pod/on-linux", &["--exec"]);
    assert_fails(&v, "windows-node", "pod/", "kubectl gmsa attach");
    let (_, v) = s.doctor("pod/on-windows", &["--exec"]);
    let c = check(&v, "parent-domain", "pod/");
    assert_eq!(c["status"], "fail", "{v:#}");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("exec of `nltest /parentdomain` failed"),
        "{c:#}"
    );
    assert!(c["fix"].as_str().unwrap().contains("pods/exec"));
    for n in names {
        let _ = nodes.delete(&n, &Default::default()).await;
    }
    s.cleanup();
}
