//! The PowerShell module's own interop (`powershell/KubeGmsa/KubeGmsa.Native.cs`) run for
//! real under Mono: compiled with `mcs -langversion:5` (the C# of Windows PowerShell 5.1's
//! `Add-Type`), then, through `tests/mono/Host.cs`, loading the built library the way the
//! module does and calling every export against the real test cluster and Samba DC:
//! success, the error classes, non-ASCII text as UTF-8, progress, cancel, every free.
//! Broken copies (a C# 6 feature; a wrong DllImport signature) are shown failing.
//! Mono is installed by scripts/test.sh (scripts/lib/mono.sh); a missing Mono fails these
//! tests, it never skips them.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::OnceLock;

#[path = "common/module_dir.rs"]
mod module_dir;
use module_dir::target_dir;

use gmsa_tests::dc::dc;
use gmsa_tests::{cluster, workspace_root};

fn native_cs() -> PathBuf {
    workspace_root().join("powershell/KubeGmsa/KubeGmsa.Native.cs")
}

fn host_cs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mono/Host.cs")
}

fn require(tool: &str) {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{tool} is missing: install Mono (apt-get install mono-mcs mono-runtime; scripts/test.sh does)"
    );
}

/// `mcs -langversion:5` on the sources; the compiler's output on failure.
fn mcs(out: &Path, sources: &[&Path], library: bool) -> Result<(), String> {
    require("mcs");
    let mut cmd = Command::new("mcs");
    cmd.arg("-langversion:5")
        .arg("-warnaserror+")
        .arg(format!("-out:{}", out.display()));
    if library {
        cmd.arg("-target:library");
    }
    let o = cmd.args(sources).output().expect("run mcs");
    if o.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ))
    }
}

/// The built library, copied into a module-like folder (bin/linux-x64/libgmsa_ffi.so).
fn library() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        // Cargo builds this package's cdylib beside the test binary (deps/), and copies it
        // to the profile folder on `cargo build`.
        let deps = std::env::current_exe()
            .unwrap()
            .parent()
            .unwrap()
            .join("libgmsa_ffi.so");
        let built = if deps.exists() {
            deps
        } else {
            target_dir().join("libgmsa_ffi.so")
        };
        assert!(
            built.exists(),
            "{} is missing (cargo builds it with this test)",
            built.display()
        );
        let lib = module_dir::module_dir(&target_dir(), "mono")
            .join("KubeGmsa/bin/linux-x64/libgmsa_ffi.so");
        module_dir::place(&built, &lib, true);
        lib
    })
}

/// One Mono process running Host.cs (built from `native` and Host.cs).
struct Host {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    _dir: tempfile::TempDir,
}

impl Host {
    fn start(native: &Path) -> Result<Host, String> {
        require("mono");
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("host.exe");
        mcs(&exe, &[native, &host_cs()], false)?;
        let mut child = Command::new("mono")
            .arg(&exe)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .env_remove("KUBECONFIG")
            .spawn()
            .expect("run mono");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Ok(Host {
            child,
            stdin,
            stdout,
            _dir: dir,
        })
    }

    fn send(&mut self, line: &str) -> String {
        writeln!(self.stdin, "{line}").expect("write to the host");
        self.stdin.flush().unwrap();
        let mut answer = String::new();
        self.stdout.read_line(&mut answer).expect("read the host");
        assert!(
            !answer.is_empty(),
            "the Mono host ended on {line:?} (crashed?)"
        );
        answer.trim_end().to_owned()
    }

    fn call(&mut self, entry: &str, request: &serde_json::Value, flags: &str) -> Answer {
        let line = format!("call {entry} {} {flags}", b64(&request.to_string()));
        let answer = self.send(&line);
        let w: Vec<&str> = answer.split(' ').collect();
        assert_eq!(w[0], "status", "{entry}: the host said {answer}");
        Answer {
            status: w[1].parse().unwrap(),
            body: serde_json::from_str(&unb64(w[2])).unwrap_or(serde_json::Value::Null),
            text: unb64(w[2]),
            events: unb64(w[4])
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
            callback_error: w[5].to_owned(),
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Answer {
    status: i32,
    body: serde_json::Value,
    text: String,
    events: Vec<serde_json::Value>,
    callback_error: String,
}

impl Answer {
    fn expect(&self, status: i32, what: &str) -> &Self {
        assert_eq!(self.status, status, "{what}: {}", self.text);
        self
    }
    fn kind(&self) -> &str {
        self.body["kind"].as_str().unwrap_or("")
    }
}

fn b64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn unb64(s: &str) -> String {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let mut bytes = vec![];
    for c in s.as_bytes().chunks(4) {
        let n = c.iter().enumerate().fold(0u32, |n, (i, &x)| {
            if x == b'=' {
                n
            } else {
                n | (val(x) as u32) << (18 - 6 * i)
            }
        });
        let pad = c.iter().filter(|&&x| x == b'=').count();
        for i in 0..3 - pad {
            bytes.push((n >> (16 - 8 * i)) as u8);
        }
    }
    String::from_utf8(bytes).expect("the host answers UTF-8")
}

fn loaded_host(native: &Path) -> Host {
    let mut h = Host::start(native).expect("the module's C# compiles at C# 5");
    let lib = library().display().to_string();
    assert_eq!(h.send(&format!("load {lib}")), "ok");
    h
}

#[test]
fn the_module_interop_compiles_at_csharp_5() {
    let dir = tempfile::tempdir().unwrap();
    mcs(&dir.path().join("n.dll"), &[&native_cs()], true).expect("mcs -langversion:5");
}

/// A copy of KubeGmsa.Native.cs with one edit.
fn broken(edit: impl FnOnce(&str) -> String) -> (tempfile::TempDir, PathBuf) {
    let text = std::fs::read_to_string(native_cs()).unwrap();
    let changed = edit(&text);
    assert_ne!(changed, text, "the edit must change the file");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("KubeGmsa.Native.cs");
    std::fs::write(&p, changed).unwrap();
    (dir, p)
}

#[test]
fn a_csharp_6_feature_is_refused() {
    let (dir, p) = broken(|t| {
        t.replacen(
            "return Marshal.PtrToStringAnsi(gmsa_version());",
            "string v = Marshal.PtrToStringAnsi(gmsa_version()); return $\"{v}\";",
            1,
        )
    });
    let err = mcs(&dir.path().join("n.dll"), &[&p], true).expect_err("C# 6 must be refused");
    assert!(
        err.contains("CS1644") && err.contains("interpolated strings"),
        "{err}"
    );
    let (dir, p) = broken(|t| {
        t.replacen(
            "if (stopSource == null) { return null; }",
            "if (stopSource?.GetType() == null) { return null; }",
            1,
        )
    });
    let err = mcs(&dir.path().join("n.dll"), &[&p], true).expect_err("C# 6 must be refused");
    assert!(
        err.contains("CS1644") && err.contains("null propagating"),
        "{err}"
    );
}

#[test]
fn a_wrong_dllimport_signature_fails_under_mono() {
    // gmsa_context_new(GmsaContext **out): declared by value, the library sees NULL.
    let (_dir, p) = broken(|t| {
        t.replacen(
            "public static extern int gmsa_context_new(out IntPtr ctx);",
            "public static extern int gmsa_context_new(IntPtr ctx);",
            1,
        )
        .replacen(
            "int status = gmsa_context_new(out ctx);",
            "ctx = IntPtr.Zero; int status = gmsa_context_new(ctx);",
            1,
        )
    });
    let mut h = Host::start(&p).expect("still compiles");
    let answer = h.send(&format!("load {}", library().display()));
    assert!(answer.starts_with("error "), "{answer}");
    assert!(unb64(&answer[6..]).contains("gmsa_context_new failed"));
    // An export declared under a name the library does not have.
    let (_dir, p) = broken(|t| {
        t.replacen(
            "[DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]\n        public static extern int gmsa_cancel(IntPtr ctx);",
            "[DllImport(Lib, CallingConvention = CallingConvention.Cdecl, EntryPoint = \"gmsa_cancel_all\")]\n        public static extern int gmsa_cancel(IntPtr ctx);",
            1,
        )
    });
    let mut h = loaded_host(&p);
    let answer = h.send("cancel-null");
    assert!(answer.starts_with("error "), "{answer}");
    assert!(
        unb64(&answer[6..]).contains("EntryPointNotFoundException"),
        "{}",
        unb64(&answer[6..])
    );
}

fn example(name: &str) -> String {
    workspace_root()
        .join("examples/credspecs")
        .join(name)
        .display()
        .to_string()
}

fn target() -> serde_json::Value {
    serde_json::json!({ "kubeconfig": cluster().kubeconfig })
}

fn suffix() -> String {
    gmsa_tests::unique("m")
}

#[test]
fn housekeeping_exports_and_the_loader() {
    let mut h = loaded_host(&native_cs());
    assert_eq!(
        h.send("abi"),
        format!("abi 1 {}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(h.send("free-nulls"), "ok");
    assert_eq!(h.send("cancel-null"), "status 100");
    // Loading the same library again is fine; another path is refused with both named.
    assert_eq!(h.send(&format!("load {}", library().display())), "ok");
    let answer = h.send("load /elsewhere/libgmsa_ffi.so");
    let msg = unb64(answer.strip_prefix("error ").expect("refused"));
    assert!(
        msg.contains(&library().display().to_string())
            && msg.contains("/elsewhere/libgmsa_ffi.so")
            && msg.contains("new PowerShell session"),
        "{msg}"
    );
}

#[test]
fn offline_exports_success_errors_and_utf8() {
    let mut h = loaded_host(&native_cs());
    let file = example("webapp01-domain-joined.json");
    let ok = h.call(
        "gmsa_lint",
        &serde_json::json!({"source": {"credspec_file": file}}),
        "",
    );
    ok.expect(0, "lint");
    assert_eq!(ok.body["errors"], 0, "{}", ok.text);
    h.call(
        "gmsa_convert",
        &serde_json::json!({"source": {"credspec_file": file}, "credspec_name": "webapp01"}),
        "",
    )
    .expect(0, "convert");
    // Non-ASCII: a file under a non-ASCII folder is read, and its path comes back intact.
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("Zürich-東京-✓");
    std::fs::create_dir(&odd).unwrap();
    let copy = odd.join("spec ü.json");
    std::fs::copy(&file, &copy).unwrap();
    h.call(
        "gmsa_lint",
        &serde_json::json!({"source": {"credspec_file": copy}}),
        "",
    )
    .expect(0, "lint of a non-ASCII path");
    let missing = odd.join("nicht-da-ß.json");
    let e = h.call(
        "gmsa_lint",
        &serde_json::json!({"source": {"credspec_file": missing}}),
        "",
    );
    assert!(e.status == 2 || e.status == 3, "{}", e.text);
    assert!(
        e.body["message"]
            .as_str()
            .unwrap()
            .contains(&missing.display().to_string()),
        "the path round-trips as UTF-8: {}",
        e.text
    );
    // Non-ASCII inside a credential spec given as text: a finding quotes it back unchanged.
    let mut spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    spec["DomainJoinConfig"]["DnsName"] = serde_json::json!("contoso.com");
    spec["DomainJoinConfig"]["MachineAccountName"] = serde_json::json!("Wébäpp01-☃");
    let lint = h.call(
        "gmsa_lint",
        &serde_json::json!({"source": {"credspec": spec.to_string()}}),
        "",
    );
    assert!(lint.text.contains("Wébäpp01-☃"), "{}", lint.text);
    // invalid_json (102), naming an unknown field.
    let e = h.call(
        "gmsa_lint",
        &serde_json::json!({"source": {"credspec_file": file}, "sorce": 1}),
        "",
    );
    e.expect(102, "unknown field");
    assert!(
        e.body["message"].as_str().unwrap().contains("sorce"),
        "{}",
        e.text
    );
    // config (8): a kubeconfig that does not exist.
    let e = h.call(
        "gmsa_get",
        &serde_json::json!({"target": {"kubeconfig": "/nonexistent/kubeconfig"}}),
        "",
    );
    e.expect(8, "config");
    assert_eq!(e.kind(), "config");
}

#[test]
fn cluster_exports_with_progress_errors_and_cancel() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ns = rt.block_on(async {
        gmsa_tests::install_crd().await;
        gmsa_tests::namespace(&["app", "web"]).await
    });
    let mut h = loaded_host(&native_cs());
    let s = suffix();
    let name = format!("mono-{s}");
    let role = format!("{name}-gmsa-user");
    let file = example("webapp01-domain-joined.json");
    let add = serde_json::json!({"target": target(), "source": {"credspec_file": file}, "credspec_name": name, "service_accounts": ["app"], "namespace": ns});
    let a = h.call("gmsa_add_credspec", &add, "progress");
    a.expect(0, "add");
    assert!(
        a.events
            .iter()
            .any(|e| e["event"] == "object" && e["name"] == name.as_str()),
        "object events arrive through the module's callback: {:?}",
        a.events
    );
    // conflict (4): the same name from another file, without overwrite.
    let mut other = add.clone();
    other["source"] = serde_json::json!({"credspec_file": example("webapp01-akv-plugin.json")});
    let c = h.call("gmsa_add_credspec", &other, "");
    if c.status != 0 {
        c.expect(4, "conflict");
    }
    let g = h.call(
        "gmsa_get",
        &serde_json::json!({"target": target(), "name": name}),
        "",
    );
    g.expect(0, "get");
    assert_eq!(g.body["items"][0]["name"], name.as_str());
    let nf = h.call(
        "gmsa_get",
        &serde_json::json!({"target": target(), "name": format!("missing-{s}")}),
        "",
    );
    nf.expect(3, "not_found");
    assert_eq!(nf.kind(), "not_found");
    h.call("gmsa_check_access", &serde_json::json!({"target": target(), "credspec_name": name, "service_accounts": ["app"], "namespace": ns}), "")
        .expect(0, "check_access");
    h.call("gmsa_bind_role", &serde_json::json!({"target": target(), "cluster_role_name": role, "service_accounts": ["web"], "namespace": ns}), "")
        .expect(0, "bind");
    h.call("gmsa_unbind_role", &serde_json::json!({"target": target(), "cluster_role_name": role, "service_accounts": ["web"], "namespace": ns}), "")
        .expect(0, "unbind");
    let secret = h.call("gmsa_create_secret", &serde_json::json!({"target": target(), "secret_name": format!("user-{s}"), "namespace": ns, "domain": "contoso.com", "username": "reader", "password": "Pässwört-☂-123"}), "");
    secret.expect(0, "create_secret");
    assert!(!secret.text.contains("Pässwört"), "{}", secret.text);
    h.call(
        "gmsa_remove_credspec",
        &serde_json::json!({"target": target(), "credspec_name": name, "namespace": ns}),
        "",
    )
    .expect(0, "remove");
    // forbidden (5): a user without rights.
    let kdir = tempfile::tempdir().unwrap();
    let plain = gmsa_tests::kubeconfig_as("alice", kdir.path());
    let f = h.call("gmsa_add_credspec", &serde_json::json!({"target": {"kubeconfig": plain}, "source": {"credspec_file": file}, "credspec_name": format!("f-{s}")}), "");
    f.expect(5, "forbidden");
    // unreachable (6): nothing listens there.
    let dead = kdir.path().join("dead");
    let text = std::fs::read_to_string(&cluster().kubeconfig).unwrap();
    let re = regex::Regex::new(r"server: https://127\.0\.0\.1:\d+").unwrap();
    std::fs::write(
        &dead,
        re.replace(&text, "server: https://127.0.0.1:1").as_ref(),
    )
    .unwrap();
    h.call(
        "gmsa_get",
        &serde_json::json!({"target": {"kubeconfig": dead}}),
        "",
    )
    .expect(6, "unreachable");

    // The webhook: installed without waiting (no controllers run here), its status is a
    // result, certificates rotate, and it uninstalls.
    let wh = format!("wh-{s}");
    let whns = format!("whns-{s}");
    let base = serde_json::json!({"target": target(), "name": wh, "namespace": whns});
    let mut install = base.clone();
    install["wait"] = serde_json::json!(false);
    h.call("gmsa_install_webhook", &install, "progress")
        .expect(0, "install");
    let st = h.call("gmsa_status", &base, "");
    st.expect(0, "status");
    assert_eq!(st.body["healthy"], false, "{}", st.text);
    let mut rotate = base.clone();
    rotate["wait"] = serde_json::json!(false);
    h.call("gmsa_rotate_certs", &rotate, "").expect(0, "rotate");

    // Cancel: waiting for a Deployment that never becomes ready here would take the whole
    // timeout (status 7); PowerShell's Stopping (Ctrl+C) cancels it (status 105).
    let mut wait = base.clone();
    wait["wait"] = serde_json::json!(true);
    wait["timeout_secs"] = serde_json::json!(600);
    let c = h.call("gmsa_install_webhook", &wait, "progress stop-after-ms 1500");
    c.expect(105, "cancelled by Stopping");
    assert_eq!(c.kind(), "cancelled");
    // A progress handler that throws cancels the call, and its exception comes back.
    let c = h.call("gmsa_install_webhook", &wait, "throw-in-progress");
    c.expect(105, "cancelled by a throwing handler");
    assert_eq!(c.callback_error, "InvalidOperationException");
    assert_eq!(c.events.len(), 1, "no event after the handler failed");
    // The context still works after a cancel.
    h.call("gmsa_uninstall_webhook", &base, "")
        .expect(0, "uninstall");
}

#[test]
fn directory_exports_against_the_dc() {
    let d = dc();
    let mut h = loaded_host(&native_cs());
    let directory = |user: &str, password: &str| serde_json::json!({"server": d.ldaps(), "ca_file": d.ca(), "user": user, "password": password});
    let admin = d.admin();
    // gMSA names: at most 15 characters, unique on the shared DC.
    let digits: String = suffix().chars().filter(char::is_ascii_digit).collect();
    let account = format!("mo{}", &digits[digits.len().saturating_sub(12)..]);
    let dry = h.call("gmsa_create_account", &serde_json::json!({"directory": directory(admin.user, admin.password), "account": account, "allowed_principals": [d.var("GMSA_TEST_DC_GROUP")], "dry_run": true}), "progress");
    dry.expect(0, "create_account dry run");
    assert!(
        dry.body["ldif"].as_str().unwrap_or("").contains(&account),
        "{}",
        dry.text
    );
    // A missing gMSA: a failed check in check_account's result, not_found for new_credspec.
    let missing = format!("{account}x");
    let check = h.call("gmsa_check_account", &serde_json::json!({"directory": directory(admin.user, admin.password), "account": missing}), "");
    check.expect(0, "check_account of a missing gMSA");
    assert_eq!(check.body["passed"], false, "{}", check.text);
    assert!(
        check
            .text
            .contains(&format!("no gMSA named \\\"{missing}\\\"")),
        "{}",
        check.text
    );
    let nf = h.call("gmsa_new_credspec", &serde_json::json!({"directory": directory(admin.user, admin.password), "account": missing}), "");
    nf.expect(3, "new_credspec of a missing gMSA");
    assert_eq!(nf.kind(), "not_found");
    let bad = h.call("gmsa_new_credspec", &serde_json::json!({"directory": directory(admin.user, "wrong-pässword"), "account": account}), "");
    bad.expect(9, "unauthorized");
    assert!(!bad.text.contains("wrong-pässword"), "{}", bad.text);
}
