//! Runs the Python ctypes suite `tests/abi/test_abi.py` against the built library (loaded
//! from a KubeGmsa module folder, as the module loads it) and the real test cluster: once
//! as it is, and once under valgrind, where memory errors and definite leaks fail the test.
//! The directory exports run against the real Samba DC (`scripts/test-dc.sh ensure`).
//! pytest is installed with pip and valgrind with apt-get when missing; nothing is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

#[path = "common/module_dir.rs"]
mod module_dir;
use module_dir::target_dir;

use gmsa_tests::dc::dc;
use gmsa_tests::{cluster, workspace_root};

/// Everything the suite needs, prepared once per test process.
struct Setup {
    module_dir: PathBuf,
    namespace: String,
    python: PathBuf,
}

fn cargo_build(package: &str) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", package])
        .current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", target_dir().parent().unwrap())
        .status()
        .expect("run cargo build");
    assert!(status.success(), "cargo build -p {package} failed");
}

fn rid() -> &'static str {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "linux-x64",
        ("linux", "aarch64") => "linux-arm64",
        ("macos", "x86_64") => "osx-x64",
        ("macos", "aarch64") => "osx-arm64",
        ("windows", "x86_64") => "win-x64",
        other => panic!("no runtime identifier for {other:?}"),
    }
}

fn library_file() -> &'static str {
    match std::env::consts::OS {
        "windows" => "gmsa_ffi.dll",
        "macos" => "libgmsa_ffi.dylib",
        _ => "libgmsa_ffi.so",
    }
}

fn ensure_pytest() -> PathBuf {
    let ok = |py: &str| {
        Command::new(py)
            .args(["-m", "pytest", "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !ok("python3") {
        let status = Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "pytest",
            ])
            .status()
            .expect("run pip");
        assert!(
            status.success() && ok("python3"),
            "pytest is missing and `python3 -m pip install pytest` failed"
        );
    }
    // The interpreter itself (not a launcher script), so that valgrind watches it.
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap();
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        // Cargo builds the lib target of this package (cdylib and rlib in one compiler run)
        // before linking this test, so the library beside the target dir is this build's.
        // Building it again with `cargo build -p gmsa-ffi` would pick other dependency
        // features than a workspace test run and recompile the core every time.
        let library = target_dir().join(library_file());
        if !library.exists() {
            cargo_build("gmsa-ffi");
        }
        let cli = gmsa_tests::bin();
        assert!(cli.exists());
        // A module folder laid out as installed: KubeGmsa.psd1, KubeGmsa.psm1, bin/<rid>/<lib>.
        let module_dir = module_dir::module_dir(&target_dir(), "abi");
        let src = workspace_root().join("powershell/KubeGmsa");
        for f in ["KubeGmsa.psd1", "KubeGmsa.psm1"] {
            module_dir::place(&src.join(f), &module_dir.join(f), false);
        }
        let bin = module_dir.join("bin").join(rid());
        module_dir::place(
            &target_dir().join(library_file()),
            &bin.join(library_file()),
            true,
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let namespace = rt.block_on(async {
            gmsa_tests::install_crd().await;
            gmsa_tests::namespace(&["app", "web"]).await
        });
        Setup {
            module_dir,
            namespace,
            python: ensure_pytest(),
        }
    })
}

/// How the suite runs: pytest on test_abi.py (relative to `CARGO_MANIFEST_DIR`, the
/// working directory of every command here).
const PYTEST: [&str; 6] = [
    "-m",
    "pytest",
    "-q",
    "-p",
    "no:cacheprovider",
    "tests/abi/test_abi.py",
];

/// The suite's command (pytest on test_abi.py) with its environment, run by the Python
/// interpreter directly or through `wrapper` (a program and its arguments).
fn suite(wrapper: Option<(&str, &[&str])>, python_args: &[&str]) -> Command {
    let s = setup();
    let c = cluster();
    let d = dc();
    let mut cmd = match wrapper {
        Some((program, args)) => {
            let mut cmd = Command::new(program);
            cmd.args(args).arg(&s.python);
            cmd
        }
        None => Command::new(&s.python),
    };
    cmd.args(python_args)
        .env("GMSA_MODULE_DIR", &s.module_dir)
        .env("GMSA_TEST_KUBECONFIG", &c.kubeconfig)
        .env("GMSA_TEST_NAMESPACE", &s.namespace)
        .env("GMSA_TEST_CA", c.var("GMSA_TEST_CA"))
        .env("GMSA_TEST_SERVER", c.server())
        .env("GMSA_EXAMPLES", workspace_root().join("examples"))
        .env("GMSA_CLI", gmsa_tests::bin())
        .env("GMSA_VERSION", env!("CARGO_PKG_VERSION"))
        // The DC's facts (URLs, CA, principals and their passwords): the suite passes the
        // passwords to the library only inside JSON requests.
        .envs(d.env.iter().filter(|(k, _)| k.starts_with("GMSA_TEST_DC_")))
        .env_remove("KUBECONFIG")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

#[test]
fn abi_suite_against_the_test_cluster() {
    let status = suite(None, &PYTEST).status().expect("run pytest");
    assert!(
        status.success(),
        "the ABI suite failed (see its output above)"
    );
}

/// Make sure valgrind is there (installing it with apt-get when missing).
fn ensure_valgrind() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        let status = Command::new("apt-get")
            .args(["install", "-y", "-q", "valgrind"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .expect("run apt-get");
        assert!(
            status.success(),
            "valgrind is missing and `apt-get install valgrind` failed"
        );
    }
}

/// Exit code of valgrind when it found errors (memory errors or definite leaks).
const VALGRIND_FOUND_ERRORS: i32 = 97;

/// Run `python ARGS` under valgrind with the suite's environment; return the exit code and
/// valgrind's report.
fn under_valgrind(python_args: &[&str]) -> (Option<i32>, String) {
    setup();
    ensure_valgrind();
    let supp = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/abi/valgrind.supp");
    let supp_arg = format!("--suppressions={}", supp.display());
    let log = tempfile::NamedTempFile::new().unwrap();
    let log_arg = format!("--log-file={}", log.path().display());
    let exit_arg = format!("--error-exitcode={VALGRIND_FOUND_ERRORS}");
    let args = [
        "--quiet",
        "--leak-check=full",
        "--show-leak-kinds=definite",
        "--errors-for-leak-kinds=definite",
        exit_arg.as_str(),
        "--num-callers=30",
        supp_arg.as_str(),
        log_arg.as_str(),
    ];
    let status = suite(Some(("valgrind", &args)), python_args)
        .env("PYTHONMALLOC", "malloc")
        .status()
        .expect("run valgrind");
    (
        status.code(),
        std::fs::read_to_string(log.path()).unwrap_or_default(),
    )
}

#[test]
fn abi_suite_under_valgrind_has_no_memory_errors_or_definite_leaks() {
    let (code, report) = under_valgrind(&PYTEST);
    assert!(
        code != Some(VALGRIND_FOUND_ERRORS),
        "valgrind found memory errors or definite leaks:\n{report}"
    );
    assert_eq!(
        code,
        Some(0),
        "the ABI suite failed under valgrind; valgrind said:\n{report}"
    );
}

#[test]
fn valgrind_reports_a_buffer_that_is_never_freed() {
    let probe = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/abi/leak_probe.py");
    let probe = probe.to_str().unwrap();
    let (code, report) = under_valgrind(&[probe, "clean"]);
    assert_eq!(
        code,
        Some(0),
        "the clean probe must pass; valgrind said:\n{report}"
    );
    let (code, report) = under_valgrind(&[probe, "leak"]);
    assert_eq!(
        code,
        Some(VALGRIND_FOUND_ERRORS),
        "the leaking probe must fail; valgrind said:\n{report}"
    );
    assert!(
        report.contains("definitely lost") && report.contains("gmsa_lint"),
        "{report}"
    );
}
