//! Helpers for the wizard tests: starting `kubectl gmsa wizard` in a real pseudo-terminal
//! (alone, or in a shell that survives Ctrl-C and prints its exit status), one session that
//! answers it prompt by prompt and keeps all the terminal showed, what the terminal showed
//! without escape sequences, and running the commands the wizard prints.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use rexpect::session::{spawn_command, PtySession};

use crate::{admin, bin, cluster, example, install_crd, namespace, to_run, Run};

/// The heading before the commands the wizard prints at its end.
pub const SAME_WITHOUT_QUESTIONS: &str = "The same without questions:";

/// `kubectl gmsa wizard` on the test cluster, run in `cwd`, without colours.
pub fn wizard_command(cwd: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.arg("--kubeconfig")
        .arg(&cluster().kubeconfig)
        .arg("wizard");
    cmd.current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    cmd
}

/// `cmd` run by a shell that first runs `setup` (e.g. `stty cols 40`), survives Ctrl-C, and
/// prints the wizard's exit status as `exit=N` once it ends.
pub fn in_shell(cmd: &Command, setup: &str) -> Command {
    in_shell_around(cmd, setup, ":")
}

/// As [`in_shell`], and the shell runs `after` (e.g. `stty -a`) once the wizard ended.
pub fn in_shell_around(cmd: &Command, setup: &str, after: &str) -> Command {
    let mut sh = Command::new("bash");
    sh.arg("-c")
        .arg(format!(
            "trap : INT; {setup}; \"$@\"; echo \"exit=$?\"; {after}"
        ))
        .arg("bash")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    if let Some(d) = cmd.get_current_dir() {
        sh.current_dir(d);
    }
    sh
}

/// A folder holding the example credential spec, one of the usual places.
pub fn folder_with_a_credspec() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        example("credspecs/webapp01-domain-joined.json"),
        dir.path().join("webapp01.json"),
    )
    .unwrap();
    dir
}

/// A single-threaded runtime for a test's own cluster calls.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A runtime, the CRD installed, and a fresh namespace holding service account `app`.
pub fn namespace_with_app() -> (tokio::runtime::Runtime, String) {
    let rt = runtime();
    rt.block_on(install_crd());
    let ns = rt.block_on(namespace(&["app"]));
    (rt, ns)
}

/// The wizard stopped before writing: the namespace holds no role binding.
pub fn assert_no_role_bindings(rt: &tokio::runtime::Runtime, ns: &str) {
    let bindings: kube::Api<k8s_openapi::api::rbac::v1::RoleBinding> =
        kube::Api::namespaced(rt.block_on(admin()), ns);
    let items = rt
        .block_on(bindings.list(&Default::default()))
        .unwrap()
        .items;
    assert!(items.is_empty(), "role bindings were made: {items:?}");
}

/// Whether service account `sa` of `ns` may use credential spec `name` (asked as the admin).
pub fn may_use(rt: &tokio::runtime::Runtime, ns: &str, sa: &str, name: &str) -> bool {
    rt.block_on(gmsa::cluster::access::may_use(
        &rt.block_on(admin()),
        ns,
        sa,
        name,
    ))
    .unwrap()
}

/// Run one printed command line (`kubectl gmsa ...`) with the test binary, in `cwd`, with
/// `$GMSA_LDAP_PASSWORD` set to `password` or unset.
pub fn run_printed(line: &str, cwd: &Path, password: Option<&str>) -> Run {
    let args: Vec<&str> = line.split_whitespace().skip(2).collect();
    let mut cmd = Command::new(bin());
    cmd.args(&args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("GMSA_LDAP_PASSWORD")
        .stdin(Stdio::null());
    if let Some(p) = password {
        cmd.env("GMSA_LDAP_PASSWORD", p);
    }
    to_run(cmd.output().unwrap())
}

/// `kubectl gmsa wizard` in `cwd` for service account `app` of `ns`, the webhook left
/// alone, with `more` flags.
pub fn wizard_for_app(cwd: &Path, ns: &str, more: &[&str]) -> Command {
    let mut cmd = wizard_command(cwd);
    cmd.args(["-n", ns, "--no-install-webhook", "--service-account", "app"])
        .args(more);
    cmd
}

/// The credential spec name a pod runs as, if any.
pub fn credspec_of(pod: &k8s_openapi::api::core::v1::PodSpec) -> Option<&str> {
    pod.security_context
        .as_ref()
        .and_then(|c| c.windows_options.as_ref())
        .and_then(|w| w.gmsa_credential_spec_name.as_deref())
}

/// What the terminal shows, without its escape sequences (colours, cursor moves). rexpect
/// hands over each byte as one char: they are decoded as UTF-8 again first.
pub fn plain(text: &str) -> String {
    let text = if text.chars().all(|c| (c as u32) < 256) {
        let bytes: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        text.to_owned()
    };
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for n in chars.by_ref() {
                    if n.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else if c != '\r' {
            out.push(c);
        }
    }
    out
}

/// The lines starting `kubectl gmsa` in `text`, trimmed.
pub fn command_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("kubectl gmsa"))
        .collect()
}

/// One wizard session in a pseudo-terminal; `log` holds all the terminal showed so far.
pub struct Wizard {
    session: PtySession,
    pub log: String,
}

impl Wizard {
    /// Start `cmd` in a pseudo-terminal; a wait for text fails after `timeout_ms`.
    pub fn start(cmd: Command, timeout_ms: u64) -> Wizard {
        Wizard {
            session: spawn_command(cmd, Some(timeout_ms)).unwrap(),
            log: String::new(),
        }
    }

    /// Wait for `text`, keeping everything the terminal showed up to it.
    pub fn expect(&mut self, text: &str) -> &mut Self {
        let log = &self.log;
        let before = self
            .session
            .exp_string(text)
            .unwrap_or_else(|e| panic!("waiting for {text:?}: {e}\nso far:\n{log}"));
        self.log.push_str(&before);
        self.log.push_str(text);
        self
    }

    /// Type `line` and Enter (an answer to a text prompt; empty keeps the one offered).
    pub fn type_line(&mut self, line: &str) -> &mut Self {
        self.session.send_line(line).unwrap();
        self
    }

    /// Type a hidden answer (a password) and Enter, once the prompt reads keys.
    pub fn type_secret(&mut self, secret: &str) -> &mut Self {
        std::thread::sleep(Duration::from_millis(300));
        self.type_line(secret)
    }

    /// Press keys once the prompt reads them (select and confirm prompts hide the cursor then).
    pub fn press(&mut self, keys: &str) -> &mut Self {
        std::thread::sleep(Duration::from_millis(300));
        self.session.send(keys).unwrap();
        self.session.flush().unwrap();
        self
    }

    /// Wait for the text prompt `prompt`, then type `answer` and Enter.
    pub fn answer(&mut self, prompt: &str, answer: &str) -> &mut Self {
        self.expect(prompt).type_line(answer)
    }

    /// Wait for the question `prompt` and its `[Y/n]`, then answer yes.
    pub fn yes(&mut self, prompt: &str) -> &mut Self {
        self.expect(prompt).expect("[Y/n]").press("y\r")
    }

    /// Wait for the question `prompt` and its `[y/N]`, then take the default, no.
    pub fn no(&mut self, prompt: &str) -> &mut Self {
        self.expect(prompt).expect("[y/N]").press("\r")
    }

    /// Wait for the menu of credential specs, then pick the file found in the folder.
    pub fn pick_the_file_found(&mut self) -> &mut Self {
        self.expect("another file...").press("\r")
    }

    /// Answer the domain-joined question yes, see the preview without its YAML, and apply.
    pub fn apply_without_yaml(&mut self) -> &mut Self {
        self.yes("joined to the domain")
            .no("Show the YAML")
            .yes("Apply?")
    }

    /// Decline attaching a workload, then wait for the end and the commands it prints.
    pub fn attach_nothing(&mut self) {
        self.expect("Attach gmsacredentialspec")
            .press("\r")
            .expect(SAME_WITHOUT_QUESTIONS)
            .finish();
    }

    /// Wait for the end; what the terminal showed since the last wait (kept in `log` too).
    pub fn finish(&mut self) -> String {
        let rest = self.session.exp_eof().unwrap();
        self.log.push_str(&rest);
        rest
    }

    /// Press Ctrl-C and wait for the end; what the terminal showed since the last wait.
    pub fn interrupt(&mut self) -> String {
        self.press("\x03").finish()
    }

    /// What the wizard printed after "The same without questions:".
    pub fn printed(&self) -> &str {
        self.log.split(SAME_WITHOUT_QUESTIONS).nth(1).unwrap()
    }
}
