//! A plugin that starts anywhere: with every Kerberos library hidden (bind-mounted over with an
//! empty file in a private mount namespace), `lint`, `add-credspec` and `status` run against the
//! test cluster, a `--user` bind works, and a Kerberos bind fails clearly, writing nothing.
//! With only MIT Kerberos hidden, a sealed Kerberos bind goes through Heimdal's GSSAPI instead.
//! Also: neither the binary nor the C-ABI library links a Kerberos library (ldd), yet both carry
//! Kerberos support (they name the GSSAPI library they open at run time).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gmsa_tests::dc::{dc, unique_account};
use gmsa_tests::*;

/// The shared libraries of MIT Kerberos (and Heimdal's GSSAPI), by soname.
const KERBEROS_LIBRARIES: [&str; 7] = [
    "libgssapi_krb5.so.2",
    "libkrb5.so.3",
    "libk5crypto.so.3",
    "libcom_err.so.2",
    "libkrb5support.so.0",
    "libkeyutils.so.1",
    "libgssapi.so.3",
];

/// MIT Kerberos' own libraries (not libcom_err, which Heimdal uses too).
const MIT_LIBRARIES: [&str; 4] = [
    "libgssapi_krb5.so.2",
    "libkrb5.so.3",
    "libk5crypto.so.3",
    "libkrb5support.so.0",
];

/// The real files behind every installed Kerberos library (from the loader cache).
fn kerberos_files() -> Vec<PathBuf> {
    let files = installed(&KERBEROS_LIBRARIES);
    assert!(
        files.iter().any(|f| f.to_string_lossy().contains("libgssapi_krb5")),
        "MIT Kerberos is installed on test machines (scripts/test-dc.sh installs krb5-user): {files:?}"
    );
    files
}

/// The real files behind the installed libraries of these sonames (from the loader cache).
fn installed(sonames: &[&str]) -> Vec<PathBuf> {
    let out = Command::new("ldconfig")
        .arg("-p")
        .output()
        .expect("run ldconfig -p");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut files: Vec<PathBuf> = text
        .lines()
        .filter_map(|l| {
            let (name, path) = l.trim().split_once(" => ")?;
            let soname = name.split_whitespace().next()?;
            sonames
                .contains(&soname)
                .then(|| std::fs::canonicalize(path).ok())?
        })
        .collect();
    files.sort();
    files.dedup();
    files
}

/// `program ARGS` in a private mount namespace where each Kerberos library is an empty file.
fn hidden(program: &Path, args: &[&str], envs: &[(&str, &str)]) -> Run {
    hidden_files(&kerberos_files(), program, args, envs)
}

/// `program ARGS` in a private mount namespace where each of `files` is an empty file.
fn hidden_files(files: &[PathBuf], program: &Path, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let empty = tempfile::NamedTempFile::new().unwrap();
    let mut script = String::from("set -e\n");
    for f in files {
        script += &format!(
            "mount --bind '{}' '{}'\n",
            empty.path().display(),
            f.display()
        );
    }
    script += "exec \"$@\"\n";
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        &script,
        "sh",
    ])
    .arg(program)
    .args(args)
    .env("NO_COLOR", "1")
    .env_remove("GMSA_LDAP_PASSWORD")
    .envs(envs.iter().copied())
    .stdin(Stdio::null());
    let o = cmd.output().expect("run unshare (util-linux)");
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn kubeconfig() -> String {
    cluster().kubeconfig.to_str().unwrap().to_owned()
}

#[tokio::test]
async fn without_kerberos_libraries_the_plugin_runs_and_a_kerberos_bind_fails_clearly() {
    // The control: a program linked to Kerberos does not even start in that namespace.
    let klist = hidden(Path::new("klist"), &["-V"], &[]);
    assert_ne!(
        klist.code, 0,
        "klist started with Kerberos hidden: {klist:?}"
    );
    klist.stderr_has("error while loading shared libraries");

    let bin = bin();
    let spec_file = example("credspecs/webapp01-domain-joined.json");
    let spec_file = spec_file.to_str().unwrap();

    // lint: no cluster, no directory.
    hidden(&bin, &["lint", spec_file], &[]).ok();

    // add-credspec against the test cluster: the resource and the RBAC are there afterwards.
    install_crd().await;
    let ns = namespace(&["app"]).await;
    let spec = unique("nokrb");
    let role = unique("nokrb-role");
    let kc = kubeconfig();
    let add = hidden(
        &bin,
        &[
            "--kubeconfig",
            &kc,
            "add-credspec",
            "--credspec-file",
            spec_file,
            "--credspec-name",
            &spec,
            "--cluster-role-name",
            &role,
            "-n",
            &ns,
            "--service-account",
            "app",
        ],
        &[],
    );
    add.ok();
    add.stdout_has(&format!("gmsacredentialspec.windows.k8s.io/{spec} created"));
    let got = gmsa(&["get", &spec, "-o", "json"]);
    got.ok();
    got.stdout_has(&spec);

    // status: the report comes out (exit 10 is "unhealthy": this server runs no pods).
    let status = hidden(&bin, &["--kubeconfig", &kc, "status", "-o", "json"], &[]);
    assert!(status.code == 0 || status.code == 10, "{status:?}");
    let report: serde_json::Value = serde_json::from_str(&status.stdout)
        .unwrap_or_else(|e| panic!("status -o json: {e}\n{status:?}"));
    assert!(report.is_object(), "{report}");

    // A simple bind over TLS needs no Kerberos.
    let d = dc();
    let account = unique_account("nk");
    let alice = d.alice();
    let by_user = hidden(
        &bin,
        &[
            "check-account",
            &account,
            "--server",
            d.ldaps(),
            "--ca-file",
            d.ca(),
            "--user",
            alice.user,
            "-o",
            "json",
        ],
        &[("GMSA_LDAP_PASSWORD", alice.password)],
    );
    // The account does not exist: a report with a failed check, as with Kerberos installed.
    let check_exit = by_user.code;
    assert_ne!(check_exit, 8, "{by_user:?}");
    by_user.stdout_has("\\\\alice");
    by_user.stdout_has("\"check\": \"exists\"");

    // A Kerberos bind, with a good ticket: the clear error, exit 8, nothing written.
    let (_keep, cache) = gmsa_tests::dc::kinit(d.alice());
    let krb_env = [
        ("KRB5_CONFIG", d.var("GMSA_TEST_DC_KRB5_CONFIG")),
        ("KRB5CCNAME", cache.as_str()),
        ("GMSA_DNS_SERVER", d.var("GMSA_TEST_DC_DNS_SERVER")),
    ];
    for args in [
        vec!["new-credspec", "--account", &account, "--server", d.ldap()],
        vec![
            "create-account",
            &account,
            "--allowed-principal",
            "WebHosts",
            "--server",
            d.ldap(),
        ],
    ] {
        let r = hidden(&bin, &args, &krb_env);
        assert_eq!(r.code, 8, "{r:?}");
        assert!(r.stdout.is_empty(), "{}", r.stdout);
        for needle in [
            "Kerberos is not available on this machine",
            "libgssapi_krb5.so.2",
            "libgssapi-krb5-2",
            "krb5-libs",
            "--user",
        ] {
            assert!(
                r.stderr.contains(needle),
                "{needle} missing from:\n{}",
                r.stderr
            );
        }
    }
    assert_eq!(
        d.dn_of(&format!("{account}$")),
        None,
        "a refused bind wrote to the directory"
    );
    // The same ticket works where Kerberos is installed (the loader, not the ticket, was missing).
    let krb = gmsa_tests::dc::gmsa_krb(
        &[
            "check-account",
            &account,
            "--server",
            d.ldap(),
            "-o",
            "json",
        ],
        &cache,
    );
    assert_eq!(krb.code, check_exit, "{krb:?}");
    krb.stdout_has("\\\\alice");
}

/// Heimdal (Linux distributions that ship it, and the GSSAPI macOS's framework grew from):
/// with MIT's libraries hidden, the loader opens Heimdal's `libgssapi.so.3`, and a sealed
/// Kerberos bind (ldap://) with a ticket from MIT's kinit (the file cache format both read)
/// gives the same credential spec as where MIT is installed. (Heimdal cannot unwrap the STREAM
/// buffers the SASL layer reads with: without the loader's `stream.rs` the connection died
/// right after the bind.)
#[test]
fn with_mit_hidden_a_kerberos_bind_goes_through_heimdal() {
    let mit = installed(&MIT_LIBRARIES);
    assert!(
        mit.iter()
            .any(|f| f.to_string_lossy().contains("libgssapi_krb5")),
        "MIT Kerberos is installed on test machines: {mit:?}"
    );
    assert!(
        !installed(&["libgssapi.so.3"]).is_empty(),
        "Heimdal's GSSAPI is installed on test machines (scripts/test-dc.sh installs libgssapi3-heimdal)"
    );
    // The control: MIT's klist does not start in that namespace.
    let klist = hidden_files(&mit, Path::new("klist"), &["-V"], &[]);
    assert_ne!(klist.code, 0, "klist started with MIT hidden: {klist:?}");
    klist.stderr_has("error while loading shared libraries");

    let d = dc();
    let account = unique_account("hk");
    d.add_gmsa(&account);
    let (_keep, cache) = gmsa_tests::dc::kinit(d.alice());
    let args = ["new-credspec", "--account", &account, "--server", d.ldap()];
    let by_mit = gmsa_tests::dc::gmsa_krb(&args, &cache);
    by_mit.ok();
    let by_heimdal = hidden_files(
        &mit,
        &bin(),
        &args,
        &[
            ("KRB5_CONFIG", d.var("GMSA_TEST_DC_KRB5_CONFIG")),
            ("KRB5CCNAME", cache.as_str()),
            ("GMSA_DNS_SERVER", d.var("GMSA_TEST_DC_DNS_SERVER")),
        ],
    );
    by_heimdal.ok();
    assert_eq!(by_heimdal.stdout, by_mit.stdout);
    by_heimdal.stdout_has(&account);
}

fn target_dir() -> PathBuf {
    // target/<profile>/kubectl-gmsa -> target/<profile>
    bin().parent().unwrap().to_path_buf()
}

/// The C-ABI library as the release builds it (`cargo build -p gmsa-ffi`, no other package's
/// features): built here when a workspace build has not left one.
fn ffi_library() -> PathBuf {
    let lib = target_dir().join("libgmsa_ffi.so");
    if !lib.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "gmsa-ffi"])
            .current_dir(workspace_root())
            .env("CARGO_TARGET_DIR", target_dir().parent().unwrap())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build -p gmsa-ffi failed");
    }
    lib
}

#[cfg(target_os = "linux")]
#[test]
fn the_binary_and_the_library_link_no_kerberos_but_carry_it() {
    for file in [bin(), ffi_library()] {
        let out = Command::new("ldd").arg(&file).output().expect("run ldd");
        assert!(out.status.success(), "ldd {}", file.display());
        let deps = String::from_utf8_lossy(&out.stdout);
        assert!(deps.contains("libc.so.6"), "{deps}");
        for lib in ["gssapi", "krb5", "k5crypto", "com_err", "keyutils"] {
            assert!(
                !deps.contains(lib),
                "{} links {lib}:\n{deps}",
                file.display()
            );
        }
        // Kerberos is compiled in: the file names the library it opens at run time.
        let bytes = std::fs::read(&file).unwrap();
        let needle = b"libgssapi_krb5.so.2";
        assert!(
            bytes.windows(needle.len()).any(|w| w == needle),
            "{} has no Kerberos support compiled in",
            file.display()
        );
    }
}
