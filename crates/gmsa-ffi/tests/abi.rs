//! Runs the Python ctypes suite `tests/abi/test_abi.py` against the built library (loaded
//! from a KubeGmsa module folder, as the module loads it) and the real test cluster: once
//! as it is, and once under valgrind, where memory errors and definite leaks fail the test.
//! pytest is installed with pip and valgrind with apt-get when missing; nothing is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use gmsa_tests::{cluster, workspace_root};

/// Everything the suite needs, prepared once per test process.
struct Setup {
    module_dir: tempfile::TempDir,
    namespace: String,
    python: PathBuf,
}

fn target_dir() -> PathBuf {
    // target/<profile>/deps/abi-xxxx -> target/<profile>
    std::env::current_exe().unwrap().parent().and_then(Path::parent).unwrap().to_path_buf()
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
    let ok = |py: &str| Command::new(py).args(["-m", "pytest", "--version"]).output().is_ok_and(|o| o.status.success());
    if !ok("python3") {
        let status = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "pytest"])
            .status()
            .expect("run pip");
        assert!(status.success() && ok("python3"), "pytest is missing and `python3 -m pip install pytest` failed");
    }
    // The interpreter itself (not a launcher script), so that valgrind watches it.
    let out = Command::new("python3").args(["-c", "import sys; print(sys.executable)"]).output().unwrap();
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        cargo_build("gmsa-ffi");
        let cli = gmsa_tests::bin();
        assert!(cli.exists());
        // A module folder laid out as installed: KubeGmsa.psd1, KubeGmsa.psm1, bin/<rid>/<lib>.
        let module_dir = tempfile::tempdir().unwrap();
        let src = workspace_root().join("powershell/KubeGmsa");
        for f in ["KubeGmsa.psd1", "KubeGmsa.psm1"] {
            std::fs::copy(src.join(f), module_dir.path().join(f)).unwrap();
        }
        let bin = module_dir.path().join("bin").join(rid());
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::copy(target_dir().join(library_file()), bin.join(library_file())).expect("copy the built library");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let namespace = rt.block_on(async {
            gmsa_tests::install_crd().await;
            gmsa_tests::namespace(&["app", "web"]).await
        });
        Setup { module_dir, namespace, python: ensure_pytest() }
    })
}

/// The suite's command (pytest on test_abi.py) with its environment, run by the Python
/// interpreter directly or through `wrapper` (a program and its arguments).
fn suite(wrapper: Option<(&str, &[&str])>) -> Command {
    let s = setup();
    let c = cluster();
    let mut cmd = match wrapper {
        Some((program, args)) => {
            let mut cmd = Command::new(program);
            cmd.args(args).arg(&s.python);
            cmd
        }
        None => Command::new(&s.python),
    };
    cmd.args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/abi/test_abi.py"))
        .env("GMSA_MODULE_DIR", s.module_dir.path())
        .env("GMSA_TEST_KUBECONFIG", &c.kubeconfig)
        .env("GMSA_TEST_NAMESPACE", &s.namespace)
        .env("GMSA_TEST_CA", c.var("GMSA_TEST_CA"))
        .env("GMSA_TEST_SERVER", c.server())
        .env("GMSA_EXAMPLES", workspace_root().join("examples"))
        .env("GMSA_CLI", gmsa_tests::bin())
        .env("GMSA_VERSION", env!("CARGO_PKG_VERSION"))
        .env_remove("KUBECONFIG");
    cmd
}

#[test]
fn abi_suite_against_the_test_cluster() {
    let status = suite(None).status().expect("run pytest");
    assert!(status.success(), "the ABI suite failed (see its output above)");
}

#[test]
fn abi_suite_under_valgrind_has_no_memory_errors_or_definite_leaks() {
    setup();
    if Command::new("valgrind").arg("--version").output().is_err() {
        let status = Command::new("apt-get")
            .args(["install", "-y", "-q", "valgrind"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .expect("run apt-get");
        assert!(status.success(), "valgrind is missing and `apt-get install valgrind` failed");
    }
    let supp = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/abi/python.supp");
    let supp_arg = format!("--suppressions={}", supp.display());
    let log = tempfile::NamedTempFile::new().unwrap();
    let log_arg = format!("--log-file={}", log.path().display());
    let args = [
        "--quiet",
        "--leak-check=full",
        "--show-leak-kinds=definite",
        "--errors-for-leak-kinds=definite",
        "--error-exitcode=97",
        "--num-callers=30",
        supp_arg.as_str(),
        log_arg.as_str(),
    ];
    let status = suite(Some(("valgrind", &args)))
        .env("PYTHONMALLOC", "malloc")
        .status()
        .expect("run valgrind");
    let report = std::fs::read_to_string(log.path()).unwrap_or_default();
    assert!(status.code() != Some(97), "valgrind found memory errors or definite leaks:\n{report}");
    assert!(status.success(), "the ABI suite failed under valgrind (status {status}); valgrind said:\n{report}");
}
