//! `add-credspec`, `remove-credspec`, `bind-role`, `unbind-role`, `get`, `check-access` and
//! `create-secret` against the real test API server.

use gmsa::cluster::access::may_use;
use gmsa_tests::rbac::Grant;
use gmsa_tests::*;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::rbac::v1::{ClusterRole, RoleBinding};
use kube::api::Api;
use serde_json::Value;

const DOMAIN_JOINED: &str = "credspecs/webapp01-domain-joined.json";
const AKV: &str = "credspecs/webapp01-akv-plugin.json";

async fn credspec(name: &str) -> Option<Value> {
    credspec_api(&admin().await)
        .get_opt(name)
        .await
        .unwrap()
        .map(|o| serde_json::to_value(o).unwrap())
}

fn file_json(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(example(rel)).unwrap()).unwrap()
}

fn rv(v: &Value) -> String {
    v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned()
}

struct Names {
    ns: String,
    spec: String,
    role: String,
}

/// The resourceVersions of the credential spec, its ClusterRole and RoleBinding `binding`.
async fn versions(
    n: &Names,
    roles: &Api<ClusterRole>,
    bindings: &Api<RoleBinding>,
    binding: &str,
) -> (String, Option<String>, Option<String>) {
    (
        rv(&credspec(&n.spec).await.unwrap()),
        roles.get(&n.role).await.unwrap().metadata.resource_version,
        bindings
            .get(binding)
            .await
            .unwrap()
            .metadata
            .resource_version,
    )
}

/// Whether ClusterRole `name` exists.
async fn role_exists(client: &kube::Client, name: &str) -> bool {
    Api::<ClusterRole>::all(client.clone())
        .get_opt(name)
        .await
        .unwrap()
        .is_some()
}

async fn setup(sas: &[&str]) -> Names {
    install_crd().await;
    Names {
        ns: namespace(sas).await,
        spec: unique("spec"),
        role: unique("role"),
    }
}

fn add_args<'a>(n: &'a Names, file: &'a str, sas: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "add-credspec",
        "--credspec-file",
        file,
        "--credspec-name",
        &n.spec,
        "--cluster-role-name",
        &n.role,
        "-n",
        &n.ns,
    ];
    for sa in sas {
        a.push("--service-account");
        a.push(sa);
    }
    a
}

#[tokio::test]
async fn add_credspec_lets_exactly_the_bound_accounts_use_it() {
    let n = setup(&["app", "other"]).await;
    let file = example(DOMAIN_JOINED);
    let r = gmsa(&add_args(&n, file.to_str().unwrap(), &["app"]));
    r.ok();
    r.stdout_has(&format!(
        "gmsacredentialspec.windows.k8s.io/{} created",
        n.spec
    ));

    let stored = credspec(&n.spec).await.expect("the resource exists");
    assert_eq!(
        stored["credspec"],
        file_json(DOMAIN_JOINED),
        "the resource holds the credential spec unchanged"
    );
    assert_eq!(
        stored["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "kubectl-gmsa"
    );

    let client = admin().await;
    assert!(
        may_use(&client, &n.ns, "app", &n.spec).await.unwrap(),
        "app may use it"
    );
    assert!(
        !may_use(&client, &n.ns, "other", &n.spec).await.unwrap(),
        "another account may not"
    );
    assert!(
        !may_use(&client, &n.ns, "app", "some-other-spec")
            .await
            .unwrap(),
        "app may not use another spec"
    );

    // check-access says the same, and exits non-zero when one may not.
    let ok = gmsa(&[
        "check-access",
        &n.spec,
        "--service-account",
        "app",
        "-n",
        &n.ns,
    ]);
    ok.ok();
    ok.stdout_has("may use");
    let denied = gmsa(&[
        "check-access",
        &n.spec,
        "--service-account",
        "app",
        "--service-account",
        "other",
        "-n",
        &n.ns,
    ]);
    denied.fails();
    denied.stdout_has(&format!("{}:other may NOT use", n.ns));
}

#[tokio::test]
async fn rerun_changes_nothing_and_a_different_file_needs_overwrite() {
    let n = setup(&["app"]).await;
    let file = example(DOMAIN_JOINED);
    let f = file.to_str().unwrap();
    gmsa(&add_args(&n, f, &["app"])).ok();
    let client = admin().await;
    let roles: Api<ClusterRole> = Api::all(client.clone());
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), &n.ns);
    let binding_name = format!("{}-app", n.role);
    let before = versions(&n, &roles, &bindings, &binding_name).await;

    let again = gmsa(&add_args(&n, f, &["app"]));
    again.ok();
    assert_eq!(
        again.stdout.matches("unchanged").count(),
        3,
        "{}",
        again.stdout
    );
    let after = versions(&n, &roles, &bindings, &binding_name).await;
    assert_eq!(before, after, "re-running changed a resourceVersion");

    let akv = example(AKV);
    let refused = gmsa(&add_args(&n, akv.to_str().unwrap(), &["app"]));
    refused.fails();
    assert_eq!(refused.code, 4, "conflict exit code");
    refused.stderr_has("--overwrite");
    assert!(
        refused.stderr.contains("HostAccountConfig"),
        "says what differs: {}",
        refused.stderr
    );
    assert_eq!(
        rv(&credspec(&n.spec).await.unwrap()),
        before.0,
        "a refused run changed the resource"
    );

    let mut args = add_args(&n, akv.to_str().unwrap(), &["app"]);
    args.push("--overwrite");
    let updated = gmsa(&args);
    updated.ok();
    updated.stdout_has("configured");
    assert_eq!(credspec(&n.spec).await.unwrap()["credspec"], file_json(AKV));
}

#[tokio::test]
async fn dry_runs_write_nothing_and_print_the_objects() {
    let n = setup(&["app"]).await;
    let file = example(DOMAIN_JOINED);
    for mode in ["--dry-run=server", "--dry-run=client"] {
        let mut args = add_args(&n, file.to_str().unwrap(), &["app"]);
        args.extend([mode, "-o", "yaml"]);
        let r = gmsa(&args);
        r.ok();
        let list: Value = serde_yaml::from_str(&r.stdout).expect("-o yaml prints YAML");
        let kinds: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["GMSACredentialSpec", "ClusterRole", "RoleBinding"],
            "{mode}"
        );
        assert!(
            credspec(&n.spec).await.is_none(),
            "{mode} wrote the credential spec"
        );
        let client = admin().await;
        assert!(
            !role_exists(&client, &n.role).await,
            "{mode} wrote the role"
        );
        let bindings: Api<RoleBinding> = Api::namespaced(client, &n.ns);
        assert!(
            bindings
                .list(&Default::default())
                .await
                .unwrap()
                .items
                .is_empty(),
            "{mode} wrote a binding"
        );
    }
    // A server dry run still validates against the cluster: a denied user fails.
    let mut args = vec!["--context", "alice"];
    args.extend(add_args(&n, file.to_str().unwrap(), &["app"]));
    args.push("--dry-run=server");
    gmsa(&args).fails();
}

#[tokio::test]
async fn remove_leaves_nothing_of_ours_and_unbind_revokes() {
    let n = setup(&["app", "web"]).await;
    let other_ns = namespace(&["front"]).await;
    let file = example(DOMAIN_JOINED);
    gmsa(&add_args(&n, file.to_str().unwrap(), &["app", "web"])).ok();
    let front = format!("{other_ns}:front");
    gmsa(&[
        "bind-role",
        "--cluster-role-name",
        &n.role,
        "--service-account",
        &front,
    ])
    .ok();
    let client = admin().await;
    assert!(may_use(&client, &other_ns, "front", &n.spec).await.unwrap());

    // get shows who may use it.
    let got = gmsa(&["get", &n.spec, "-o", "json"]);
    got.ok();
    let table = gmsa(&["get"]);
    table.ok();
    let line = table
        .stdout
        .lines()
        .find(|l| l.starts_with(&n.spec))
        .expect("get lists the spec");
    assert!(
        line.contains("webapp01") && line.contains("contoso.com"),
        "{line}"
    );
    assert!(
        line.contains(&format!("{}:app", n.ns)) && line.contains(&front),
        "{line}"
    );

    let r = gmsa(&[
        "unbind-role",
        "--cluster-role-name",
        &n.role,
        "--service-account",
        "web",
        "-n",
        &n.ns,
    ]);
    r.ok();
    r.stdout_has("deleted");
    assert!(
        !may_use(&client, &n.ns, "web", &n.spec).await.unwrap(),
        "unbind-role revoked"
    );
    assert!(
        may_use(&client, &n.ns, "app", &n.spec).await.unwrap(),
        "others keep access"
    );

    // A binding someone else made to the same role is not ours and stays.
    let foreign: RoleBinding = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "by-hand", "namespace": n.ns },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": n.role },
        "subjects": [{ "kind": "ServiceAccount", "name": "web", "namespace": n.ns }]
    }))
    .unwrap();
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), &n.ns);
    bindings
        .create(&Default::default(), &foreign)
        .await
        .unwrap();

    let r = gmsa(&[
        "remove-credspec",
        "--credspec-name",
        &n.spec,
        "--cluster-role-name",
        &n.role,
        "--service-account",
        "app",
        "-n",
        &n.ns,
    ]);
    r.ok();
    assert!(credspec(&n.spec).await.is_none());
    assert!(!role_exists(&client, &n.role).await);
    let left: Vec<String> = bindings
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|b| b.metadata.name)
        .collect();
    assert_eq!(
        left,
        ["by-hand"],
        "only the binding that is not ours is left"
    );
    let other: Api<RoleBinding> = Api::namespaced(client.clone(), &other_ns);
    assert!(
        other
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "the binding in the other namespace was ours and is gone"
    );
    assert!(!may_use(&client, &other_ns, "front", &n.spec).await.unwrap());

    // Removing again: nothing of ours is left to remove.
    gmsa(&[
        "remove-credspec",
        "--credspec-name",
        &n.spec,
        "--cluster-role-name",
        &n.role,
        "-n",
        &n.ns,
    ])
    .fails();
}

#[tokio::test]
async fn bad_input_writes_nothing_and_names_the_problem() {
    let n = setup(&["app"]).await;
    let dir = tempfile::tempdir().unwrap();
    let invalid_json = dir.path().join("invalid.json");
    std::fs::write(&invalid_json, "{ \"CmsPlugins\": [ \"ActiveDirectory\" ], ").unwrap();
    let lint_errors = dir.path().join("errors.json");
    let bad = std::fs::read_to_string(example(DOMAIN_JOINED))
        .unwrap()
        .replace(
            "\"webapp01\",\n        \"Guid\"",
            "\"webapp01$\",\n        \"Guid\"",
        );
    std::fs::write(&lint_errors, bad).unwrap();
    let good = example(DOMAIN_JOINED);
    let good = good.to_str().unwrap();
    let unreachable = dir.path().join("unreachable.kubeconfig");
    std::fs::write(
        &unreachable,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: t\n",
    )
    .unwrap();

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--credspec-file", "/nonexistent/webapp01.json"],
            "no such file",
        ),
        (
            vec!["--credspec-file", invalid_json.to_str().unwrap()],
            "not valid JSON",
        ),
        (
            vec!["--credspec-file", lint_errors.to_str().unwrap()],
            "$.DomainJoinConfig.MachineAccountName",
        ),
        (
            vec!["--credspec-file", good, "--credspec-name", "Not_A_Name"],
            "invalid credential spec name",
        ),
        (
            vec!["--credspec-file", good, "--service-account", "Bad_SA"],
            "invalid service account name",
        ),
        (
            vec![
                "--credspec-file",
                good,
                "--secret-name",
                "s",
                "--plugin-guid",
                "{GDMA0342-266A-4D1P-831J-20990E82944F}",
            ],
            "invalid plug-in GUID",
        ),
        (
            vec!["--credspec-file", good, "--context", "no-such-context"],
            "no-such-context",
        ),
        (
            vec!["--credspec-file", good, "--context", "alice"],
            "may not",
        ),
    ];
    for (extra, expect) in cases {
        let mut args = vec!["add-credspec", "-n", &n.ns, "--cluster-role-name", &n.role];
        if !extra.contains(&"--credspec-name") {
            args.extend(["--credspec-name", &n.spec]);
        }
        args.extend(extra.iter().copied());
        let r = gmsa(&args);
        r.fails();
        assert!(
            r.stderr.contains(expect),
            "args {extra:?}: expected {expect:?} in:\n{}",
            r.stderr
        );
        assert!(
            credspec(&n.spec).await.is_none(),
            "args {extra:?} wrote the credential spec"
        );
        assert!(
            !role_exists(&admin().await, &n.role).await,
            "args {extra:?} wrote the role"
        );
    }

    // Unreachable server: a clear message, and a different exit code.
    let r = gmsa_plain(&[
        "--kubeconfig",
        unreachable.to_str().unwrap(),
        "--request-timeout",
        "3",
        "add-credspec",
        "--credspec-file",
        good,
        "-n",
        "x",
    ]);
    r.fails();
    assert_eq!(r.code, 6, "{}", r.stderr);
    assert!(
        r.stderr.contains("could not be reached") && r.stderr.contains("127.0.0.1:1"),
        "{}",
        r.stderr
    );
}

#[tokio::test]
async fn a_user_who_may_create_the_role_but_not_the_binding_gets_no_half_made_state() {
    let n = setup(&["app"]).await;
    let client = admin().await;
    // bob may create credential specs and cluster roles, but not role bindings.
    let grant = Grant::new(
        &unique("bob-partial"),
        "bob",
        serde_json::json!([
            { "apiGroups": ["windows.k8s.io"], "resources": ["gmsacredentialspecs"], "verbs": ["get", "list", "create", "patch", "use"] },
            { "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles", "rolebindings"], "verbs": ["get", "list"] },
            { "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["create", "patch"] }
        ]),
    )
    .await;

    let file = example(DOMAIN_JOINED);
    let mut args = vec!["--context", "bob"];
    args.extend(add_args(&n, file.to_str().unwrap(), &["app"]));
    let r = gmsa(&args);
    r.fails();
    assert_eq!(r.code, 5, "{}", r.stderr);
    r.stderr_has("create rolebindings.rbac.authorization.k8s.io");
    r.stderr_has("nothing was changed");
    assert!(
        credspec(&n.spec).await.is_none(),
        "half-made: the credential spec exists"
    );
    assert!(
        !role_exists(&client, &n.role).await,
        "half-made: the role exists"
    );
    grant.revoke().await;
}

#[tokio::test]
async fn non_domain_joined_hosts_get_host_account_config_and_a_secret() {
    let n = setup(&["app"]).await;
    let file = example(DOMAIN_JOINED);
    let mut args = add_args(&n, file.to_str().unwrap(), &["app"]);
    args.extend(["--secret-name", "gmsa-user", "--secret-namespace", &n.ns]);
    gmsa(&args).ok();
    let stored = credspec(&n.spec).await.unwrap();
    let hac = &stored["credspec"]["ActiveDirectoryConfig"]["HostAccountConfig"];
    assert_eq!(hac["PluginGUID"], "{E4781092-F116-4B79-B55E-28EB6A224E26}");
    assert_eq!(hac["PluginInput"], format!("{}:gmsa-user", n.ns));
    assert_eq!(hac["PortableCcgVersion"], "1");

    let planted = "Pl4nted-S3cret-Value!";
    let create_secret = [
        "create-secret",
        "gmsa-user",
        "-n",
        &n.ns,
        "--domain",
        "contoso.com",
        "--username",
        "ccg-reader",
        "--password-stdin",
    ];
    let r = gmsa_with_stdin(&create_secret, Some(&format!("{planted}\n")));
    r.ok();
    assert!(!r.stdout.contains(planted) && !r.stderr.contains(planted));
    let secret = Api::<Secret>::namespaced(admin().await, &n.ns)
        .get("gmsa-user")
        .await
        .unwrap();
    let data = secret.data.unwrap();
    assert_eq!(data["password"].0, planted.as_bytes());
    assert_eq!(data["username"].0, b"ccg-reader");
    assert_eq!(data["domain"].0, b"contoso.com");

    // -o yaml of a dry run redacts, in any encoding.
    let dry_run = ["--dry-run=server", "--overwrite", "-o", "yaml"];
    let r = gmsa_with_stdin(
        &[&create_secret[..], &dry_run].concat(),
        Some("Another-Pl4nted-Value\n"),
    );
    r.ok();
    let b64 =
        serde_json::to_value(k8s_openapi::ByteString(b"Another-Pl4nted-Value".to_vec())).unwrap();
    assert!(
        !r.stdout.contains("Another-Pl4nted-Value") && !r.stdout.contains(b64.as_str().unwrap()),
        "{}",
        r.stdout
    );
    r.stdout_has("REDACTED");
    // Without a terminal and without --password-stdin it refuses rather than hang.
    let r = gmsa(&[
        "create-secret",
        "x",
        "-n",
        &n.ns,
        "--domain",
        "contoso.com",
        "--username",
        "u",
    ]);
    r.fails();
    r.stderr_has("--password-stdin");
}
