//! `lint` and `convert` as a user runs them: files as Windows writes them, exit codes,
//! and output that `kubectl apply` takes.

use gmsa_tests::*;
use serde_json::Value;

#[test]
fn lint_reports_every_finding_with_its_path_and_fails_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(example("credspecs/webapp01-domain-joined.json")).unwrap();
    // UTF-16 LE with BOM and CRLF, as Windows PowerShell 5.1's Out-File writes it.
    let utf16 = dir.path().join("utf16.json");
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.replace('\n', "\r\n").encode_utf16() {
        bytes.extend(u.to_le_bytes());
    }
    std::fs::write(&utf16, bytes).unwrap();
    let r = gmsa_plain(&["lint", utf16.to_str().unwrap()]);
    r.ok();
    r.stdout_has("ok");

    let warn = dir.path().join("warn.json");
    std::fs::write(&warn, text.replace(",\n            {\n                \"Name\": \"webapp01\",\n                \"Scope\": \"CONTOSO\"\n            }", "")).unwrap();
    let r = gmsa_plain(&["lint", warn.to_str().unwrap()]);
    r.ok();
    r.stdout_has("warning: $.ActiveDirectoryConfig.GroupManagedServiceAccounts");

    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        text.replace(
            "S-1-5-21-702590844-1001920913-2680819671",
            "S-1-5-21-702590844-1001920913-2680819671-1105",
        )
        .replace(
            "\"webapp01\",\n        \"Guid\"",
            "\"CONTOSO\\\\webapp01\",\n        \"Guid\"",
        ),
    )
    .unwrap();
    let r = gmsa_plain(&[
        "lint",
        utf16.to_str().unwrap(),
        bad.to_str().unwrap(),
        "/nonexistent.json",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    r.stdout_has("error: $.DomainJoinConfig.Sid");
    r.stdout_has("error: $.DomainJoinConfig.MachineAccountName");
    assert!(
        r.stderr.contains("/nonexistent.json") && r.stderr.contains("no such file"),
        "{}",
        r.stderr
    );

    let r = gmsa_plain(&["lint", bad.to_str().unwrap(), "-o", "json"]);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report[0]["errors"], 2, "{report}");
}

#[test]
fn convert_prints_the_resource_in_yaml_and_json() {
    let file = example("credspecs/webapp01-domain-joined.json");
    let r = gmsa_plain(&["convert", file.to_str().unwrap()]);
    r.ok();
    let yaml: Value = serde_yaml::from_str(&r.stdout).unwrap();
    assert_eq!(
        yaml["metadata"]["name"], "webapp01",
        "name derived from the account"
    );
    assert_eq!(yaml["kind"], "GMSACredentialSpec");
    let r = gmsa_plain(&[
        "convert",
        file.to_str().unwrap(),
        "--credspec-name",
        "web-01",
        "-o",
        "json",
    ]);
    r.ok();
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(json["metadata"]["name"], "web-01");
    let original: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(json["credspec"], original);
    let r = gmsa_plain(&[
        "convert",
        file.to_str().unwrap(),
        "--credspec-name",
        "Web_01",
    ]);
    assert_eq!(r.code, 2);
    r.stderr_has("invalid credential spec name");
}

#[test]
fn add_credspec_on_a_cluster_without_the_crd_points_to_install_webhook() {
    // A second, empty cluster of this test's own.
    let dir = tempfile::tempdir().unwrap();
    let cluster_dir = dir.path().join("bare");
    let script = workspace_root().join("scripts/test-cluster.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg("ensure")
        .arg(&cluster_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kubeconfig = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let file = example("credspecs/webapp01-domain-joined.json");
    let r = gmsa_plain(&[
        "--kubeconfig",
        &kubeconfig,
        "add-credspec",
        "--credspec-file",
        file.to_str().unwrap(),
    ]);
    let _ = std::process::Command::new("bash")
        .arg(&script)
        .args(["stop", "--clean"])
        .arg(&cluster_dir)
        .output();
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stderr.contains("CRD") && r.stderr.contains("install-webhook"),
        "{}",
        r.stderr
    );
}
