//! Test helpers for the directory suites: one real Samba AD DC per machine (started by
//! `scripts/test-dc.sh ensure`, shared across test processes), the CLI run with a bind
//! password in the environment, and independent reads of the DC's database with Samba's
//! own tools (`ldbsearch`, `ldbmodify`, `samba-tool`).

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use crate::{bin, workspace_root, Run};

/// A running test DC: the facts `test-dc.sh` writes to its env file.
pub struct TestDc {
    pub env: HashMap<String, String>,
}

/// A principal of the test domain with its password.
#[derive(Clone, Copy)]
pub struct Login<'a> {
    pub user: &'a str,
    pub password: &'a str,
}

impl TestDc {
    pub fn var(&self, key: &str) -> &str {
        crate::env_var(&self.env, "test-dc.sh", key)
    }
    pub fn ldaps(&self) -> &str {
        self.var("GMSA_TEST_DC_LDAPS_URL")
    }
    /// The address of the LDAPS port (636 unless the URL names another), for a proxy.
    pub fn ldaps_addr(&self) -> std::net::SocketAddr {
        let rest = self
            .ldaps()
            .trim_start_matches("ldaps://")
            .trim_end_matches('/');
        let with_port = if rest.contains(':') {
            rest.to_owned()
        } else {
            format!("{rest}:636")
        };
        with_port
            .parse()
            .expect("the LDAPS URL names an IP address")
    }
    pub fn ldap(&self) -> &str {
        self.var("GMSA_TEST_DC_LDAP_URL")
    }
    pub fn ca(&self) -> &str {
        self.var("GMSA_TEST_DC_CA")
    }
    pub fn sam_ldb(&self) -> &str {
        self.var("GMSA_TEST_DC_SAM_LDB")
    }
    pub fn base_dn(&self) -> &str {
        self.var("GMSA_TEST_DC_BASE_DN")
    }
    pub fn admin(&self) -> Login<'_> {
        Login {
            user: self.var("GMSA_TEST_DC_ADMIN_USER"),
            password: self.var("GMSA_TEST_DC_ADMIN_PASSWORD"),
        }
    }
    /// A member of the group `WebHosts`.
    pub fn alice(&self) -> Login<'_> {
        Login {
            user: self.var("GMSA_TEST_DC_ALICE_USER"),
            password: self.var("GMSA_TEST_DC_ALICE_PASSWORD"),
        }
    }
    /// A member of no group.
    pub fn bob(&self) -> Login<'_> {
        Login {
            user: self.var("GMSA_TEST_DC_BOB_USER"),
            password: self.var("GMSA_TEST_DC_BOB_PASSWORD"),
        }
    }
    /// Samba 4.22 or newer: serves msDS-ManagedPassword and has KDS root keys.
    pub fn serves_managed_passwords(&self) -> bool {
        let v = self.var("GMSA_TEST_DC_SAMBA_VERSION");
        let mut parts = v.split(['.', '-']).map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        (major, minor) >= (4, 22)
    }

    /// Connection flags for the CLI: LDAPS with the test CA.
    pub fn flags(&self) -> Vec<String> {
        vec![
            "--server".into(),
            self.ldaps().into(),
            "--ca-file".into(),
            self.ca().into(),
        ]
    }

    /// `ldbsearch -H sam.ldb -b BASE -s SCOPE FILTER ATTRS`, parsed into entries of
    /// attribute -> values (Samba decodes SIDs and GUIDs to their string forms itself).
    pub fn ldbsearch(
        &self,
        base: &str,
        scope: &str,
        filter: &str,
        attrs: &[&str],
    ) -> Vec<HashMap<String, Vec<String>>> {
        let mut cmd = Command::new("ldbsearch");
        cmd.args(["-H", self.sam_ldb(), "-b", base, "-s", scope, filter])
            .args(attrs);
        let text = stdout_of(cmd, "ldbsearch (ldb-tools)");
        // LDIF folds long lines: a line starting with one space continues the previous one.
        let mut lines: Vec<String> = vec![];
        for line in text.lines() {
            match (line.strip_prefix(' '), lines.last_mut()) {
                (Some(rest), Some(prev)) => prev.push_str(rest),
                _ => lines.push(line.to_owned()),
            }
        }
        let mut entries = vec![];
        let mut cur: Option<HashMap<String, Vec<String>>> = None;
        for line in &lines {
            if line.starts_with("# record") {
                if let Some(e) = cur.take() {
                    entries.push(e);
                }
                cur = Some(HashMap::new());
            } else if let (Some(e), Some((k, v))) = (cur.as_mut(), line.split_once(": ")) {
                if !line.starts_with('#') {
                    e.entry(k.to_owned()).or_default().push(v.to_owned());
                }
            }
        }
        entries.extend(cur);
        entries
    }

    /// The one value of an attribute of the object at `dn`, read with ldbsearch.
    pub fn attr(&self, dn: &str, attr: &str) -> Option<String> {
        self.ldbsearch(dn, "base", "(objectClass=*)", &[attr])
            .into_iter()
            .next()?
            .get(attr)?
            .first()
            .cloned()
    }

    /// Apply an LDIF change to sam.ldb directly (setting up broken accounts for tests).
    pub fn ldbmodify(&self, ldif: &str) {
        self.ldb_tool("ldbmodify", ldif)
    }

    /// Make gMSA `name` straight in the database (enabled, with a host/ SPN and a
    /// dNSHostName; independent of our create-account) and return its DN.
    pub fn add_gmsa(&self, name: &str) -> String {
        let dn = format!("CN={name},CN=Managed Service Accounts,{}", self.base_dn());
        self.ldbadd(&format!(
            "dn: {dn}\nobjectClass: msDS-GroupManagedServiceAccount\nsAMAccountName: {name}$\ndNSHostName: {}.gmsa.test\nuserAccountControl: 4096\nmsDS-ManagedPasswordInterval: 30\nservicePrincipalName: host/{name}\n",
            name.to_lowercase()
        ));
        dn
    }

    /// Add entries to sam.ldb directly (LDIF).
    pub fn ldbadd(&self, ldif: &str) {
        self.ldb_tool("ldbadd", ldif)
    }

    fn ldb_tool(&self, tool: &str, ldif: &str) {
        let mut child = Command::new(tool)
            .args(["-H", self.sam_ldb()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run {tool}: {e}"));
        child
            .stdin
            .take()
            .unwrap()
            .write_all(ldif.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `samba-tool ARGS -H sam.ldb`; panics on failure; returns stdout.
    pub fn samba_tool(&self, args: &[&str]) -> String {
        let mut cmd = Command::new("samba-tool");
        cmd.args(args)
            .args(["-H", self.sam_ldb()])
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        stdout_of(cmd, &format!("samba-tool {args:?}"))
    }

    /// The DN of the object whose sAMAccountName is `sam`, if any.
    pub fn dn_of(&self, sam: &str) -> Option<String> {
        self.ldbsearch(
            self.base_dn(),
            "sub",
            &format!("(sAMAccountName={sam})"),
            &["dn"],
        )
        .into_iter()
        .next()
        .and_then(|e| e.get("dn").and_then(|v| v.first().cloned()))
    }
}

/// `CMD`, then the DC's connection flags (LDAPS with the test CA), then `extra`.
pub fn dc_args(cmd: &[&str], extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = cmd.iter().map(|x| x.to_string()).collect();
    a.extend(dc().flags());
    a.extend(extra.iter().map(|x| x.to_string()));
    a
}

/// The strings of `v` as `&str`s, for the `&[&str]` that the runners take.
pub fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Start (or join) the test DC. Set `GMSA_TEST_DC_DIR` to choose its folder.
pub fn dc() -> &'static TestDc {
    static DC: OnceLock<TestDc> = OnceLock::new();
    DC.get_or_init(|| {
        let script = workspace_root().join("scripts/test-dc.sh");
        let env_file = PathBuf::from(crate::ensure(&script));
        let text = std::fs::read_to_string(&env_file).expect("read the DC's env file");
        let env = text
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches(['"', '\'']).to_owned()))
            .collect();
        TestDc { env }
    })
}

/// A gMSA-sized name no other test uses: `prefix` + 10 digits (at most 15 characters).
pub fn unique_account(prefix: &str) -> String {
    assert!(
        prefix.len() <= 5,
        "account prefixes have at most 5 characters"
    );
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst) % 100;
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_micros()
        % 1000;
    format!("{prefix}{:05}{n:02}{t:03}", std::process::id() % 100_000)
}

/// Run `kubectl-gmsa ARGS`, bound as `login` (simple bind, password in the environment) or
/// with no `--user` at all.
pub fn gmsa_dc(args: &[&str], login: Option<Login<'_>>) -> Run {
    let mut cmd = Command::new(bin());
    // DNS (for --domain without --server) only ever asks the DC on loopback.
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env_remove("GMSA_LDAP_PASSWORD")
        .env("GMSA_DNS_SERVER", dc().var("GMSA_TEST_DC_DNS_SERVER"));
    if let Some(l) = login {
        cmd.arg("--user")
            .arg(l.user)
            .env("GMSA_LDAP_PASSWORD", l.password);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    crate::to_run(cmd.output().expect("spawn kubectl-gmsa"))
}

/// Run a tool of the DC's machine; panics with its stderr when it fails; its stdout.
fn stdout_of(mut cmd: Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A Kerberos ticket cache of the test realm for `login` (kinit with the DC's own
/// krb5.conf; the password goes on kinit's standard input). Keep the directory alive.
pub fn kinit(login: Login<'_>) -> (tempfile::TempDir, String) {
    let d = dc();
    let dir = tempfile::tempdir().unwrap();
    let cache = format!("FILE:{}", dir.path().join("ccache").display());
    let principal =
        login.user.split('@').next().unwrap().to_owned() + "@" + d.var("GMSA_TEST_DC_REALM");
    let mut child = Command::new("kinit")
        .arg(&principal)
        .env("KRB5_CONFIG", d.var("GMSA_TEST_DC_KRB5_CONFIG"))
        .env("KRB5CCNAME", &cache)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kinit (krb5-user)");
    writeln!(child.stdin.take().unwrap(), "{}", login.password).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "kinit {principal} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, cache)
}

/// Run `kubectl-gmsa ARGS` with no `--user`: Kerberos with the ticket cache `cache`.
pub fn gmsa_krb(args: &[&str], cache: &str) -> Run {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env_remove("GMSA_LDAP_PASSWORD")
        .env("GMSA_DNS_SERVER", dc().var("GMSA_TEST_DC_DNS_SERVER"))
        .env("KRB5_CONFIG", dc().var("GMSA_TEST_DC_KRB5_CONFIG"))
        .env("KRB5CCNAME", cache);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    crate::to_run(cmd.output().expect("spawn kubectl-gmsa"))
}
