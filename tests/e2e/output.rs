//! What the commands print, against the real test API server: `get -n` and `get -o
//! yaml|json` (specs, roles and bindings, applied back), the one `-o` shape of every write
//! command (a v1 List of the objects written), and `install-webhook --dry-run=client`'s note.

use gmsa::cluster::access::may_use;
use gmsa_tests::*;
use serde_json::Value;

const DOMAIN_JOINED: &str = "credspecs/webapp01-domain-joined.json";

/// `-o json|yaml` output parsed, asserted to be a v1 List; its items.
fn list_items(label: &str, r: &Run, yaml: bool) -> Vec<Value> {
    r.ok();
    let v: Value = if yaml {
        serde_yaml::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("{label}: not YAML ({e})\n{}", r.stdout))
    } else {
        serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("{label}: not JSON ({e})\n{}", r.stdout))
    };
    assert_eq!(v["apiVersion"], "v1", "{label}: {v:#}");
    assert_eq!(v["kind"], "List", "{label}: {v:#}");
    let items = v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{label}: no items"))
        .clone();
    for i in &items {
        assert!(
            i["metadata"].get("managedFields").is_none(),
            "{label}: managedFields left in {i:#}"
        );
        assert!(
            i["apiVersion"].is_string()
                && i["kind"].is_string()
                && i["metadata"]["name"].is_string(),
            "{label}: an item without apiVersion, kind and name: {i:#}"
        );
    }
    items
}

/// `bind-role` or `unbind-role` (`cmd`) of `role` for service account `sa` in `ns`, `-o FORMAT`.
fn role_binding(cmd: &str, role: &str, sa: &str, ns: &str, format: &str) -> Run {
    gmsa(&[
        cmd,
        "--cluster-role-name",
        role,
        "--service-account",
        sa,
        "-n",
        ns,
        "-o",
        format,
    ])
}

/// `install-webhook --name NAME -n NS --dry-run=client -o FORMAT` plus `more`.
fn install_webhook_client_dry_run(name: &str, ns: &str, format: &str, more: &[&str]) -> Run {
    let mut a = vec![
        "install-webhook",
        "--name",
        name,
        "-n",
        ns,
        "--dry-run=client",
        "-o",
        format,
    ];
    a.extend_from_slice(more);
    gmsa(&a)
}

fn kinds(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// `kind/namespace/name` of each item.
fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| {
            format!(
                "{}/{}/{}",
                i["kind"].as_str().unwrap(),
                i["metadata"]["namespace"].as_str().unwrap_or(""),
                i["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

/// The API path that creates this object (the kinds `get` prints).
fn collection_path(item: &Value) -> String {
    let ns = item["metadata"]["namespace"].as_str();
    match (item["kind"].as_str().unwrap(), ns) {
        ("GMSACredentialSpec", _) => "/apis/windows.k8s.io/v1/gmsacredentialspecs".into(),
        ("ClusterRole", _) => "/apis/rbac.authorization.k8s.io/v1/clusterroles".into(),
        ("RoleBinding", Some(ns)) => {
            format!("/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings")
        }
        (k, _) => panic!("get printed an unexpected kind {k}"),
    }
}

async fn request(method: &str, path: &str, body: Option<&Value>) -> Result<Value, kube::Error> {
    let body = body
        .map(|b| serde_json::to_vec(b).unwrap())
        .unwrap_or_default();
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("Content-Type", "application/json")
        .body(body)
        .unwrap();
    admin()
        .await
        .request_text(req)
        .await
        .map(|t| serde_json::from_str(&t).unwrap_or(Value::Null))
}

#[tokio::test]
async fn get_with_a_namespace_shows_its_service_accounts_and_prints_applyable_objects() {
    install_crd().await;
    let shop = namespace(&["app", "web"]).await;
    let other = namespace(&["front"]).await;
    let unrelated = namespace(&[]).await;
    let spec = unique("ospec");
    let role = unique("orole");
    let file = example(DOMAIN_JOINED);
    gmsa(&[
        "add-credspec",
        "--credspec-file",
        file.to_str().unwrap(),
        "--credspec-name",
        &spec,
        "--cluster-role-name",
        &role,
        "-n",
        &shop,
        "--service-account",
        "app",
        "--service-account",
        "web",
    ])
    .ok();
    let front = format!("{other}:front");
    gmsa(&[
        "bind-role",
        "--cluster-role-name",
        &role,
        "--service-account",
        &front,
    ])
    .ok();

    // The table: -n shows only that namespace's service accounts.
    let row = |r: &Run| -> String {
        r.ok();
        r.stdout
            .lines()
            .find(|l| l.starts_with(&spec))
            .unwrap_or_else(|| panic!("{spec} not listed:\n{}", r.stdout))
            .to_owned()
    };
    let all = row(&gmsa(&["get"]));
    assert!(
        all.contains(&format!("{shop}:app")) && all.contains(&front),
        "{all}"
    );
    let all_a = row(&gmsa(&["get", "-A"]));
    assert_eq!(all_a, all, "-A is every namespace, as without -n");
    let in_other = row(&gmsa(&["get", "-n", &other]));
    assert!(in_other.contains(&front), "{in_other}");
    assert!(!in_other.contains(&shop), "{in_other}");
    // A namespace none of whose service accounts may use it: the spec is not listed...
    let none = gmsa(&["get", "-n", &unrelated]);
    none.ok();
    assert!(!none.stdout.contains(&spec), "{}", none.stdout);
    // ...unless named, with no service account shown.
    let named = row(&gmsa(&["get", &spec, "-n", &unrelated]));
    assert!(named.contains("<none>"), "{named}");
    // -n and -A together are refused.
    let both = gmsa(&["get", "-n", &other, "-A"]);
    both.fails();
    assert!(
        both.stderr.contains("--all-namespaces") || both.stderr.contains("-A"),
        "{}",
        both.stderr
    );

    // -o yaml: the spec, its ClusterRole and every binding of it, as a v1 List.
    let items = list_items("get -o yaml", &gmsa(&["get", &spec, "-o", "yaml"]), true);
    let mut got = ids(&items);
    assert_eq!(
        got[..2],
        [
            format!("GMSACredentialSpec//{spec}"),
            format!("ClusterRole//{role}")
        ]
    );
    got.sort();
    let mut want = vec![
        format!("GMSACredentialSpec//{spec}"),
        format!("ClusterRole//{role}"),
        format!("RoleBinding/{other}/{role}-front"),
        format!("RoleBinding/{shop}/{role}-app"),
        format!("RoleBinding/{shop}/{role}-web"),
    ];
    want.sort();
    assert_eq!(got, want);
    // The spec holds the credential spec; the binding names the service account.
    assert_eq!(
        items[0]["credspec"]["DomainJoinConfig"]["MachineAccountName"],
        "webapp01"
    );
    assert!(
        items[0]["metadata"].get("resourceVersion").is_none(),
        "{:#}",
        items[0]
    );
    // -n: the bindings of that namespace only.
    let items = list_items(
        "get -n -o json",
        &gmsa(&["get", "-n", &shop, "-o", "json"]),
        false,
    );
    let mine: Vec<&Value> = items
        .iter()
        .filter(|i| {
            i["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n == spec || n == role || n.starts_with(&format!("{role}-")))
        })
        .collect();
    let mine: Vec<Value> = mine.into_iter().cloned().collect();
    assert_eq!(
        kinds(&mine),
        [
            "GMSACredentialSpec",
            "ClusterRole",
            "RoleBinding",
            "RoleBinding"
        ],
        "{:#?}",
        ids(&mine)
    );
    assert!(
        mine.iter()
            .filter(|i| i["kind"] == "RoleBinding")
            .all(|b| b["metadata"]["namespace"] == shop.as_str()),
        "{:#?}",
        ids(&mine)
    );
    assert!(
        items
            .iter()
            .filter(|i| i["kind"] == "RoleBinding")
            .all(|b| b["metadata"]["namespace"] == shop.as_str()),
        "another namespace's binding under -n {shop}: {:#?}",
        ids(&items)
    );

    // Applyable: delete what it lists, create it back from the List, and app may use the spec again.
    for i in &mine {
        let path = format!(
            "{}/{}",
            collection_path(i),
            i["metadata"]["name"].as_str().unwrap()
        );
        request("DELETE", &path, None).await.unwrap();
    }
    let client = admin().await;
    assert!(!may_use(&client, &shop, "app", &spec).await.unwrap());
    for i in &mine {
        request("POST", &collection_path(i), Some(i))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{} does not apply back: {e}\n{i:#}",
                    ids(std::slice::from_ref(i))[0]
                )
            });
    }
    assert!(may_use(&client, &shop, "app", &spec).await.unwrap());
    let back = row(&gmsa(&["get", "-n", &shop]));
    assert!(
        back.contains(&format!("{shop}:app")) && back.contains(&format!("{shop}:web")),
        "{back}"
    );
}

/// Every write command's `-o json|yaml` has one shape: a v1 List of the objects written,
/// whether one object or many, a real write or a dry run, an apply or a delete.
#[tokio::test]
async fn every_write_command_prints_a_v1_list_of_the_objects_it_wrote() {
    install_crd().await;
    let ns = namespace(&["app", "web"]).await;
    let spec = unique("wspec");
    let role = unique("wrole");
    let add = |more: &[&str]| add_example_credspec(&spec, &role, &ns, &["app"], more);

    // add-credspec, a dry run and for real, YAML and JSON.
    let items = list_items(
        "add-credspec --dry-run=client -o yaml",
        &add(&["--dry-run=client", "-o", "yaml"]),
        true,
    );
    assert_eq!(
        kinds(&items),
        ["GMSACredentialSpec", "ClusterRole", "RoleBinding"]
    );
    let items = list_items("add-credspec -o json", &add(&["-o", "json"]), false);
    assert_eq!(
        kinds(&items),
        ["GMSACredentialSpec", "ClusterRole", "RoleBinding"]
    );
    assert!(
        items[0]["metadata"]["uid"].is_string(),
        "written objects are as the server returned them"
    );

    // bind-role: one binding, still a List.
    let r = role_binding("bind-role", &role, "web", &ns, "yaml");
    let items = list_items("bind-role -o yaml", &r, true);
    assert_eq!(ids(&items), [format!("RoleBinding/{ns}/{role}-web")]);

    // create-secret: one Secret, its values redacted.
    let r = gmsa_with_stdin(
        &[
            "create-secret",
            &unique("wsec"),
            "--domain",
            "gmsa.test",
            "--username",
            "ccg-reader",
            "--password-stdin",
            "-n",
            &ns,
            "-o",
            "json",
        ],
        Some("Not-Printed-1\n"),
    );
    let items = list_items("create-secret -o json", &r, false);
    assert_eq!(kinds(&items), ["Secret"]);
    assert!(!r.stdout.contains("Not-Printed-1"));
    assert_eq!(items[0]["data"]["password"], "REDACTED");

    // unbind-role and remove-credspec: deletions, listed by kind and name.
    let r = role_binding("unbind-role", &role, "web", &ns, "json");
    let items = list_items("unbind-role -o json", &r, false);
    assert_eq!(ids(&items), [format!("RoleBinding/{ns}/{role}-web")]);
    let r = gmsa(&[
        "remove-credspec",
        "--credspec-name",
        &spec,
        "--cluster-role-name",
        &role,
        "--service-account",
        "app",
        "-n",
        &ns,
        "-o",
        "json",
    ]);
    let mut got = ids(&list_items("remove-credspec -o json", &r, false));
    got.sort();
    let mut want = vec![
        format!("ClusterRole//{role}"),
        format!("GMSACredentialSpec//{spec}"),
        format!("RoleBinding/{ns}/{role}-app"),
    ];
    want.sort();
    assert_eq!(got, want);

    // install-webhook --dry-run=client: the same shape (no server is written to).
    let r = install_webhook_client_dry_run(&unique("wwh"), &unique("wwhns"), "json", &[]);
    let items = list_items("install-webhook --dry-run=client -o json", &r, false);
    assert!(
        kinds(&items).contains(&"ValidatingWebhookConfiguration".to_owned()),
        "{:?}",
        kinds(&items)
    );
}

/// `install-webhook --dry-run=client -o yaml` says on stderr which server version it
/// rendered for and that its Secrets cannot be applied; stdout stays pure YAML.
#[test]
fn a_client_dry_run_of_install_webhook_says_what_it_assumed() {
    let name = unique("nwh");
    let ns = unique("nwhns");
    let r = install_webhook_client_dry_run(&name, &ns, "yaml", &[]);
    r.ok();
    let note: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("note: "))
        .collect();
    assert_eq!(note.len(), 2, "{}", r.stderr);
    assert!(
        note[0].contains("Kubernetes 1.") && note[0].contains("--kube-version"),
        "{}",
        r.stderr
    );
    assert!(
        note[1].contains("REDACTED") && note[1].contains("--cert-manager"),
        "{}",
        r.stderr
    );
    // stdout: one YAML document, the List, nothing else.
    assert!(!r.stdout.contains("note:"), "{}", r.stdout);
    let v: Value = serde_yaml::from_str(&r.stdout).expect("stdout is YAML only");
    assert_eq!(v["kind"], "List");

    // With --kube-version the note names it; with --cert-manager nothing is redacted.
    let r = install_webhook_client_dry_run(
        &name,
        &ns,
        "yaml",
        &["--kube-version", "1.27", "--cert-manager"],
    );
    r.ok();
    r.stderr_has("Kubernetes 1.27 (--kube-version)");
    assert!(
        !r.stderr.contains("REDACTED") && !r.stdout.contains("REDACTED"),
        "{}",
        r.stderr
    );
    serde_yaml::from_str::<Value>(&r.stdout).expect("stdout is YAML only");
}
