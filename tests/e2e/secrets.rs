//! Secrets never leak: a unique password, the LDAP bind password (right and wrong) and the
//! webhook's TLS private keys are planted, then looked for (raw, base64, and for keys a line
//! of the PEM body) everywhere the tool writes: stdout, stderr (with RUST_LOG=trace; the CLI
//! has no -v flag and no logger, so this is its most verbose), every -o yaml/json and
//! dry-run output, the process's own command line (/proc/<pid>/cmdline: no documented way
//! puts a secret there), the files it writes, and the C ABI's outcome and error JSON (the
//! built cdylib loaded with Python ctypes, as the ABI suite does). The one place a secret
//! belongs, the Kubernetes Secret's data, is checked to hold it, which proves it was planted.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gmsa_tests::dc::{dc, unique_account, Login};
use gmsa_tests::*;
use serde_json::{json, Value};

/// A secret and the forms it could leak in.
struct Planted {
    what: &'static str,
    forms: Vec<String>,
}

fn b64(s: &str) -> String {
    serde_json::to_value(k8s_openapi::ByteString(s.as_bytes().to_vec()))
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

impl Planted {
    fn password(what: &'static str, value: &str) -> Planted {
        Planted {
            what,
            forms: vec![value.to_owned(), b64(value)],
        }
    }

    /// A PEM private key: the whole PEM, its base64 (as in a Secret's data), and the first
    /// and last full lines of its body (the DER, as any encoder would print it).
    fn pem_key(what: &'static str, pem: &str) -> Planted {
        assert!(pem.contains("PRIVATE KEY"), "{what} is not a PEM key");
        let body: Vec<&str> = pem
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 40)
            .collect();
        assert!(!body.is_empty());
        Planted {
            what,
            forms: vec![
                pem.to_owned(),
                b64(pem),
                body[0].to_owned(),
                body[body.len() - 1].to_owned(),
            ],
        }
    }

    fn assert_absent(&self, text: &str, place: &str) {
        for f in &self.forms {
            assert!(
                !text.contains(f.as_str()),
                "{} appears in {place}:\n{text}",
                self.what
            );
        }
    }
}

fn unique_password() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("Pw-{n:x}-{}!zQ", std::process::id())
}

/// One CLI run, with its command line as the kernel shows it while it ran.
struct Watched {
    run: Run,
    cmdline: String,
}

/// Run the CLI at maximum verbosity, read /proc/<pid>/cmdline while it runs (before its
/// standard input is written, so it is still there when it reads a password from it; a run
/// that needs no input may be done by then, and the tool starts no other programs that
/// could be handed a secret), then feed `stdin`.
fn watched(args: &[&str], envs: &[(&str, &str)], stdin: Option<&str>) -> Watched {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "trace")
        .env("RUST_BACKTRACE", "full")
        .env_remove("GMSA_LDAP_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn kubectl-gmsa");
    // Right after spawn the kernel may still show an empty command line: poll a little.
    let mut cmdline = String::new();
    for _ in 0..250 {
        cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id()))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        if !cmdline.is_empty() || matches!(child.try_wait(), Ok(Some(_))) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    if stdin.is_some() {
        // Blocked on its standard input: the read above cannot have missed it.
        assert!(
            cmdline.contains("kubectl-gmsa") && cmdline.contains(args[0]),
            "read the command line: {cmdline:?}"
        );
    }
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            let _ = input.write_all(s.as_bytes());
        }
    }
    let o = child.wait_with_output().unwrap();
    Watched {
        run: Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        },
        cmdline,
    }
}

fn check_run(w: &Watched, secrets: &[&Planted], label: &str) {
    for s in secrets {
        s.assert_absent(&w.run.stdout, &format!("stdout of {label}"));
        s.assert_absent(&w.run.stderr, &format!("stderr of {label}"));
        s.assert_absent(&w.cmdline, &format!("the command line of {label}"));
    }
}

fn kc() -> String {
    cluster().kubeconfig.to_str().unwrap().to_owned()
}

async fn get_json(path: &str) -> Option<Value> {
    let req = http::Request::get(path).body(vec![]).unwrap();
    match admin().await.request_text(req).await {
        Ok(text) => Some(serde_json::from_str(&text).unwrap()),
        Err(kube::Error::Api(s)) if s.code == 404 => None,
        Err(e) => panic!("GET {path}: {e}"),
    }
}

fn data_text(secret: &Value, key: &str) -> String {
    let bytes: k8s_openapi::ByteString =
        serde_json::from_value(secret["data"][key].clone()).unwrap();
    String::from_utf8(bytes.0).unwrap()
}

// ---------------------------------------------------------------- the C ABI, from Python

/// The built C ABI library (built here when missing, as the ABI suite does).
fn cdylib() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", "gmsa-ffi"])
        .current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", dir.parent().unwrap())
        .status()
        .expect("run cargo build");
    assert!(status.success(), "cargo build -p gmsa-ffi failed");
    let lib = dir.join("libgmsa_ffi.so");
    assert!(lib.exists(), "{} is missing", lib.display());
    lib
}

/// Call `export` of the C ABI with each request (JSON on Python's standard input, never its
/// command line); every call's status and returned text, raw.
fn ffi_calls(export: &str, requests: &[Value]) -> Vec<(i32, String)> {
    const SCRIPT: &str = r#"
import ctypes, json, sys
lib = ctypes.CDLL(sys.argv[1])
export = getattr(lib, sys.argv[2])
export.restype = ctypes.c_int
ctx = ctypes.c_void_p()
assert lib.gmsa_context_new(ctypes.byref(ctx)) == 0
out = []
for req in json.load(sys.stdin):
    data = json.dumps(req).encode()
    buf, n = ctypes.POINTER(ctypes.c_uint8)(), ctypes.c_size_t()
    status = export(ctx, data, ctypes.c_size_t(len(data)), ctypes.byref(buf), ctypes.byref(n))
    text = ctypes.string_at(buf, n.value).decode()
    lib.gmsa_buffer_free(buf, n)
    out.append([status, text])
lib.gmsa_context_free(ctx)
json.dump(out, sys.stdout)
"#;
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(cdylib())
        .arg(export)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(requests).unwrap().as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "the ctypes driver failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

// ---------------------------------------------------------------- the domain user's password

#[tokio::test]
async fn the_domain_users_password_is_only_in_the_secret() {
    let ns = namespace(&[]).await;
    let name = unique("ccg-user");
    let pw = unique_password();
    let planted = Planted::password("the domain user's password", &pw);
    let stdin = format!("{pw}\n");
    let base = [
        "--kubeconfig",
        &kc(),
        "create-secret",
        &name,
        "--domain",
        "gmsa.test",
        "--username",
        "ccg-reader",
        "--password-stdin",
        "-n",
        &ns,
    ];
    fn with<'a>(base: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
        let mut v: Vec<&str> = base.to_vec();
        v.extend_from_slice(more);
        v
    }

    // Dry runs first (nothing exists), then the write, then re-runs over what exists.
    for (label, more) in [
        (
            "create-secret --dry-run=client -o yaml",
            &["--dry-run=client", "-o", "yaml"][..],
        ),
        (
            "create-secret --dry-run=client -o json",
            &["--dry-run=client", "-o", "json"],
        ),
        (
            "create-secret --dry-run=server -o yaml",
            &["--dry-run=server", "-o", "yaml"],
        ),
        ("create-secret", &[]),
        ("create-secret (re-run) -o json", &["-o", "json"]),
        ("create-secret (re-run) -o yaml", &["-o", "yaml"]),
        (
            "create-secret (re-run) --dry-run=server -o json",
            &["--dry-run=server", "-o", "json"],
        ),
    ] {
        let w = watched(&with(&base, more), &[], Some(&stdin));
        w.run.ok();
        check_run(&w, &[&planted], label);
        if more.contains(&"-o") {
            assert!(
                w.run.stdout.contains("REDACTED"),
                "{label}: {}",
                w.run.stdout
            );
        }
    }
    // Where it belongs.
    let secret = get_json(&format!("/api/v1/namespaces/{ns}/secrets/{name}"))
        .await
        .expect("the Secret was written");
    assert_eq!(data_text(&secret, "password"), pw);

    // Another password for the same Secret: a conflict that names neither.
    let other = unique_password();
    let other_planted = Planted::password("the second password", &other);
    let w = watched(&with(&base, &[]), &[], Some(&format!("{other}\n")));
    assert_eq!(w.run.code, 4, "{:?}", w.run);
    check_run(
        &w,
        &[&planted, &other_planted],
        "create-secret with another password",
    );
    let w = watched(
        &with(&base, &["--overwrite", "-o", "json"]),
        &[],
        Some(&format!("{other}\n")),
    );
    w.run.ok();
    check_run(&w, &[&planted, &other_planted], "create-secret --overwrite");

    // The C ABI: outcomes and errors, including a password pasted into the wrong field.
    let req = |dry_run: &str, password: &str| {
        json!({
            "target": { "kubeconfig": kc() },
            "secret_name": name, "namespace": ns, "domain": "gmsa.test",
            "username": "ccg-reader", "password": password, "dry_run": dry_run
        })
    };
    let third = unique_password();
    let third_planted = Planted::password("the password given to the C ABI", &third);
    let mut pasted = req("none", "x");
    pasted["dry_run"] = json!(third);
    let mut bad_user = req("client", &third);
    bad_user["username"] = json!("GMSA\\ccg-reader");
    let calls = ffi_calls(
        "gmsa_create_secret",
        &[
            req("client", &third),
            req("server", &third),
            req("none", &third),
            pasted,
            bad_user,
        ],
    );
    let statuses: Vec<i32> = calls.iter().map(|(s, _)| *s).collect();
    // The client dry run succeeds; the server dry run and the write conflict (another
    // password is stored);
    // the pasted password is not JSON of the request; the user name is refused.
    assert_eq!(statuses, vec![0, 4, 4, 102, 2], "{calls:?}");
    for (i, (_, text)) in calls.iter().enumerate() {
        for p in [&planted, &other_planted, &third_planted] {
            p.assert_absent(text, &format!("C ABI call {i}"));
        }
    }
    let secret = get_json(&format!("/api/v1/namespaces/{ns}/secrets/{name}"))
        .await
        .unwrap();
    assert_eq!(data_text(&secret, "password"), other);
}

// ---------------------------------------------------------------- the LDAP bind password

#[test]
fn the_bind_password_never_leaves_the_environment_variable() {
    let d = dc();
    let admin = d.admin();
    let right = Planted::password("the bind password", admin.password);
    let wrong_pw = unique_password();
    let wrong = Planted::password("the wrong bind password", &wrong_pw);
    let account = unique_account("sec");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("credspec.json");
    let file_s = file.to_str().unwrap().to_owned();

    let run_as = |login: Login<'_>, cmd: &[&str]| {
        let mut args: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        args.extend(d.flags());
        args.extend(["--user".to_owned(), login.user.to_owned()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        watched(
            &args,
            &[
                ("GMSA_LDAP_PASSWORD", login.password),
                ("GMSA_DNS_SERVER", d.var("GMSA_TEST_DC_DNS_SERVER")),
            ],
            None,
        )
    };

    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "create-account --dry-run",
            vec![
                "create-account",
                &account,
                "--allowed-principal",
                "WebHosts",
                "--dry-run",
            ],
        ),
        (
            "create-account",
            vec![
                "create-account",
                &account,
                "--allowed-principal",
                "WebHosts",
            ],
        ),
        ("new-credspec", vec!["new-credspec", "--account", &account]),
        (
            "new-credspec -o resource",
            vec!["new-credspec", "--account", &account, "-o", "resource"],
        ),
        (
            "new-credspec --file",
            vec!["new-credspec", "--account", &account, "--file", &file_s],
        ),
        (
            "check-account -o json",
            vec!["check-account", &account, "-o", "json"],
        ),
        ("check-account", vec!["check-account", &account]),
    ];
    for (label, cmd) in &cases {
        let w = run_as(admin, cmd);
        w.run.ok();
        check_run(&w, &[&right], label);
    }
    assert!(
        d.dn_of(&format!("{account}$")).is_some(),
        "create-account ran"
    );
    let written = std::fs::read_to_string(&file).unwrap();
    right.assert_absent(&written, "the credential spec file");
    assert!(written.contains(&account), "{written}");

    // The gMSA's own managed password: read here as alice (a member of WebHosts, which may
    // retrieve it) with OpenLDAP's ldapsearch, then looked for in what the tool prints when
    // it checks, as alice, that the password is readable.
    if d.serves_managed_passwords() {
        let dn = d.dn_of(&format!("{account}$")).unwrap();
        let managed = managed_password(d.alice(), &dn);
        for (label, cmd) in [
            (
                "check-account -o json (alice)",
                vec!["check-account", &account, "-o", "json"],
            ),
            ("check-account (alice)", vec!["check-account", &account]),
            (
                "new-credspec (alice)",
                vec!["new-credspec", "--account", &account],
            ),
        ] {
            let w = run_as(d.alice(), &cmd);
            w.run.ok();
            check_run(&w, &[&managed], label);
            if label.starts_with("check-account -o json") {
                w.run.stdout_has("password-readable");
            }
        }
    } else {
        // test-dc.sh falls back to Debian 12's Samba 4.17 only where backports cannot be used.
        eprintln!(
            "Samba {} does not serve msDS-ManagedPassword: the managed password is not planted",
            d.var("GMSA_TEST_DC_SAMBA_VERSION")
        );
    }

    // A wrong password: refused, and neither password is shown.
    let bad = Login {
        user: admin.user,
        password: &wrong_pw,
    };
    for (label, cmd) in &cases {
        let w = run_as(bad, cmd);
        assert_eq!(w.run.code, 9, "{label} with a wrong password: {:?}", w.run);
        check_run(
            &w,
            &[&right, &wrong],
            &format!("{label} with a wrong password"),
        );
    }
    // No --password flag exists: the environment (or a prompt) is the only way in.
    let r = gmsa_plain(&["check-account", &account, "--password", "x"]);
    assert_eq!(r.code, 2, "{r:?}");
}

/// `msDS-ManagedPassword` of `dn` as `login` reads it (LDAPS, the test CA), and the forms it
/// could leak in: the blob's base64, and the current password's bytes in base64 and hex.
fn managed_password(login: Login<'_>, dn: &str) -> Planted {
    let d = dc();
    let dir = tempfile::tempdir().unwrap();
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, login.password).unwrap();
    let o = Command::new("ldapsearch")
        .args([
            "-LLL",
            "-o",
            "ldif-wrap=no",
            "-H",
            d.ldaps(),
            "-D",
            login.user,
            "-y",
        ])
        .arg(&pw_file)
        .args(["-b", dn, "-s", "base", "msDS-ManagedPassword"])
        .env("LDAPTLS_CACERT", d.ca())
        .output()
        .expect("run ldapsearch (ldap-utils)");
    assert!(
        o.status.success(),
        "ldapsearch failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8(o.stdout).unwrap();
    let blob_b64 = text
        .lines()
        .find_map(|l| l.strip_prefix("msDS-ManagedPassword:: "))
        .unwrap_or_else(|| panic!("{} may not read the managed password: {text}", login.user))
        .to_owned();
    let blob: k8s_openapi::ByteString = serde_json::from_value(json!(blob_b64)).unwrap();
    let blob = blob.0;
    // MSDS-MANAGEDPASSWORD_BLOB: the current password's offset is the u16 at byte 8; it is
    // 256 bytes of UTF-16.
    let at = u16::from_le_bytes([blob[8], blob[9]]) as usize;
    let current = &blob[at..at + 256];
    let hex: String = current.iter().map(|b| format!("{b:02x}")).collect();
    let cur_b64 = serde_json::to_value(k8s_openapi::ByteString(current.to_vec()))
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    Planted {
        what: "the gMSA's managed password",
        forms: vec![
            blob_b64,
            cur_b64,
            hex[..64].to_owned(),
            hex[..64].to_uppercase(),
        ],
    }
}

// ---------------------------------------------------------------- the webhook's private keys

#[tokio::test]
async fn the_webhook_private_keys_are_only_in_their_secrets() {
    let (name, ns) = (unique("whsec"), unique("whsecns"));
    let kc = kc();
    let args = |cmd: &'static str, more: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> = vec![
            "--kubeconfig".into(),
            kc.clone(),
            cmd.into(),
            "--name".into(),
            name.clone(),
            "-n".into(),
            ns.clone(),
        ];
        v.extend(more.iter().map(|s| s.to_string()));
        v
    };
    let run = |cmd: &'static str, more: &[&'static str]| {
        let a = args(cmd, more);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        watched(&a, &[], None)
    };
    let keys = || async {
        let tls = get_json(&format!("/api/v1/namespaces/{ns}/secrets/{name}-tls"))
            .await
            .expect("the TLS Secret exists");
        let ca = get_json(&format!("/api/v1/namespaces/{ns}/secrets/{name}-ca"))
            .await
            .expect("the CA Secret exists");
        let ca_key = ca["data"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(k, _)| k.ends_with("key"))
            .map(|(k, _)| k.clone())
            .expect("the CA Secret holds a key");
        vec![
            Planted::pem_key("the serving key", &data_text(&tls, "tls.key")),
            Planted::pem_key("the CA key", &data_text(&ca, &ca_key)),
        ]
    };

    let mut outputs: Vec<(String, Watched)> = vec![];
    let first = run(
        "install-webhook",
        &["--failure-policy", "Ignore", "--no-wait", "-o", "yaml"],
    );
    first.run.ok();
    outputs.push(("install-webhook -o yaml".into(), first));
    let old_keys = keys().await;
    for (label, cmd, more) in [
        (
            "install-webhook (re-run) -o json",
            "install-webhook",
            &["--failure-policy", "Ignore", "--no-wait", "-o", "json"][..],
        ),
        (
            "install-webhook --dry-run=server -o yaml",
            "install-webhook",
            &[
                "--failure-policy",
                "Ignore",
                "--dry-run=server",
                "-o",
                "yaml",
            ],
        ),
        (
            "install-webhook --dry-run=client -o json",
            "install-webhook",
            &[
                "--failure-policy",
                "Ignore",
                "--dry-run=client",
                "-o",
                "json",
            ],
        ),
        ("status -o json", "status", &["-o", "json"]),
        ("status", "status", &[]),
        (
            "rotate-certs --new-ca -o json",
            "rotate-certs",
            &["--new-ca", "--no-wait", "-o", "json"],
        ),
        ("rotate-certs", "rotate-certs", &["--no-wait"]),
    ] {
        let w = run(cmd, more);
        // `status` exits 10 (unhealthy): the Deployment never gets pods on this server.
        let healthy_or_not = cmd == "status" && w.run.code == 10;
        if !healthy_or_not {
            w.run.ok();
        }
        outputs.push((label.into(), w));
    }
    let new_keys = keys().await;
    let un = run("uninstall-webhook", &["-o", "json"]);
    un.run.ok();
    outputs.push(("uninstall-webhook -o json".into(), un));

    for (label, w) in &outputs {
        for k in old_keys.iter().chain(&new_keys) {
            check_run(w, &[k], label);
        }
    }
    // The rotation made new keys (so both generations were looked for).
    assert_ne!(old_keys[0].forms[0], new_keys[0].forms[0]);
}

/// The bind password reaches the tool through its environment only: while a directory
/// command is certainly running (the DC behind a frozen proxy never answers), its command
/// line holds no password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_directory_command_has_no_password_on_its_command_line() {
    let d = dc();
    let proxy = gmsa_tests::proxy::Proxy::start(d.ldaps_addr()).await;
    proxy.freeze();
    let server = format!("ldaps://127.0.0.1:{}", proxy.addr.port());
    let account = unique_account("cmd");
    let pw = d.admin().password.to_owned();
    let planted = Planted::password("the bind password", &pw);
    for cmd in [
        vec!["check-account", account.as_str()],
        vec!["new-credspec", "--account", account.as_str()],
        vec![
            "create-account",
            account.as_str(),
            "--allowed-principal",
            "WebHosts",
        ],
    ] {
        let mut child = Command::new(bin())
            .args(&cmd)
            .args(["--server", &server, "--ca-file", d.ca(), "--timeout", "30"])
            .args(["--user", d.admin().user])
            .env("GMSA_LDAP_PASSWORD", &pw)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        let cmdline = tokio::task::spawn_blocking(move || {
            for _ in 0..500 {
                let text = std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
                    .unwrap_or_default();
                if !text.is_empty() {
                    return text;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            String::new()
        })
        .await
        .unwrap();
        assert!(
            matches!(child.try_wait(), Ok(None)),
            "{cmd:?} ended while the DC was frozen"
        );
        assert!(
            cmdline.contains(cmd[0]),
            "read its command line: {cmdline:?}"
        );
        planted.assert_absent(&cmdline, &format!("the command line of {}", cmd[0]));
        // This test's own child, ended by its handle.
        child.kill().unwrap();
        child.wait().unwrap();
    }
    proxy.restart();
    assert_eq!(d.dn_of(&format!("{account}$")), None);
}
