//! Release packaging: the rendered krew manifest obeys krew's rules, and the host archive
//! installs the way krew installs it, so that a real kubectl finds and runs the plugin.

use std::path::Path;
use std::process::Command;

use gmsa_tests::{krew, workspace_root};
use serde_json::Value;

/// Package for this host (debug build, to reuse the test build) into a fresh folder.
fn package_host(dist: &Path) {
    let status = Command::new("bash")
        .arg(workspace_root().join("scripts/package.sh"))
        .args(["host", "--profile", "debug"])
        .env("DIST", dist)
        .status()
        .unwrap();
    assert!(status.success(), "scripts/package.sh host failed");
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn the_rendered_manifest_obeys_krews_rules_and_broken_ones_do_not() {
    let dist = tempfile::tempdir().unwrap();
    package_host(dist.path());
    let manifest = dist.path().join("gmsa.yaml");
    assert_eq!(krew::problems(&manifest), Vec::<String>::new());

    let good: Value = serde_yaml::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    type Mutation = Box<dyn Fn(&mut Value)>;
    let broken: Vec<(&str, Mutation)> = vec![
        (
            "metadata.name",
            Box::new(|d| d["metadata"]["name"] = "other".into()),
        ),
        (
            "semver",
            Box::new(|d| d["spec"]["version"] = "0.1.0".into()),
        ),
        ("semver", Box::new(|d| d["spec"]["version"] = "v1.2".into())),
        (
            "shortDescription",
            Box::new(|d| d["spec"]["shortDescription"] = "two\nlines".into()),
        ),
        (
            "sha256",
            Box::new(|d| {
                d["spec"]["platforms"][0]["sha256"] = "ABCDEF"
                    .repeat(10)
                    .chars()
                    .take(64)
                    .collect::<String>()
                    .into()
            }),
        ),
        (
            "sha256",
            Box::new(|d| d["spec"]["platforms"][0]["sha256"] = "abc".into()),
        ),
        (
            "matchLabels must be exactly",
            Box::new(|d| {
                d["spec"]["platforms"][0]["selector"]["matchLabels"]["distro"] = "debian".into()
            }),
        ),
        (
            "only matchLabels",
            Box::new(|d| {
                d["spec"]["platforms"][0]["selector"]["matchExpressions"] = serde_json::json!([])
            }),
        ),
        (
            "a second platform",
            Box::new(|d| {
                let p = d["spec"]["platforms"][0].clone();
                d["spec"]["platforms"].as_array_mut().unwrap().push(p);
            }),
        ),
        (
            "files must not be empty",
            Box::new(|d| d["spec"]["platforms"][0]["files"] = serde_json::json!([])),
        ),
        (
            "needs from and to",
            Box::new(|d| d["spec"]["platforms"][0]["files"][0]["to"] = "".into()),
        ),
        (
            "bin is missing",
            Box::new(|d| {
                d["spec"]["platforms"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("bin")
                    .map(|_| ())
                    .unwrap()
            }),
        ),
        (
            ".exe on Windows",
            Box::new(|d| {
                d["spec"]["platforms"][0]["selector"]["matchLabels"]["os"] = "windows".into()
            }),
        ),
        (
            "https",
            Box::new(|d| d["spec"]["platforms"][0]["uri"] = "ftp://x".into()),
        ),
    ];
    for (expect, mutate) in broken {
        let mut doc = good.clone();
        mutate(&mut doc);
        let problems = krew::check(&doc, "gmsa");
        assert!(
            problems.iter().any(|p| p.contains(expect)),
            "expected a problem with {expect:?}, got {problems:?}"
        );
    }
}

#[test]
fn the_host_archive_installs_like_krew_and_kubectl_runs_it() {
    let dist = tempfile::tempdir().unwrap();
    package_host(dist.path());
    let doc: Value =
        serde_yaml::from_str(&std::fs::read_to_string(dist.path().join("gmsa.yaml")).unwrap())
            .unwrap();
    let platform = &doc["spec"]["platforms"][0];
    let uri = platform["uri"].as_str().unwrap();
    let archive = dist.path().join(uri.rsplit('/').next().unwrap());
    assert_eq!(
        sha256(&archive),
        platform["sha256"].as_str().unwrap(),
        "checksum of the archive"
    );

    // krew: download -> unpack -> copy each files entry into the store -> link bin.
    let root = tempfile::tempdir().unwrap();
    let unpacked = root.path().join("download");
    std::fs::create_dir_all(&unpacked).unwrap();
    assert!(Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap()
        .success());
    let version = doc["spec"]["version"].as_str().unwrap();
    let store = root.path().join("store/gmsa").join(version);
    std::fs::create_dir_all(&store).unwrap();
    for f in platform["files"].as_array().unwrap() {
        let from = unpacked.join(f["from"].as_str().unwrap());
        let to = store
            .join(f["to"].as_str().unwrap())
            .join(from.file_name().unwrap());
        std::fs::copy(&from, &to).unwrap();
    }
    let bin_dir = root.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::os::unix::fs::symlink(
        store.join(platform["bin"].as_str().unwrap()),
        bin_dir.join("kubectl-gmsa"),
    )
    .unwrap();
    assert!(store.join("LICENSE").exists());

    // PATH: the krew bin folder plus where kubectl lives, and nothing else of ours.
    let kubectl = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v kubectl"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let kubectl_dir = Path::new(kubectl.trim()).parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}:/usr/bin:/bin",
        bin_dir.display(),
        kubectl_dir.display()
    );
    let list = Command::new("kubectl")
        .args(["plugin", "list"])
        .env("PATH", &path)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains(&bin_dir.join("kubectl-gmsa").display().to_string()),
        "kubectl plugin list:\n{listed}\n{}",
        String::from_utf8_lossy(&list.stderr)
    );

    let run = Command::new("kubectl")
        .args(["gmsa", "version"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(run.status.success());
    let out = String::from_utf8(run.stdout).unwrap();
    assert!(out.contains(version.trim_start_matches('v')), "{out}");
    let flag = Command::new("kubectl")
        .args(["gmsa", "--version"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(String::from_utf8(flag.stdout)
        .unwrap()
        .contains(version.trim_start_matches('v')));
}
