//! The wizard in a real pseudo-terminal: answered prompt by prompt (a credential spec file,
//! or one generated from the real test DC with the webhook installed on the way), it must
//! leave the cluster exactly as the equivalent non-interactive commands (which it prints)
//! leave it; Ctrl-C at a prompt (the hidden password one too) writes nothing, shows none of
//! what was typed and gives the terminal back; without a terminal it names missing flags.

use std::process::Command;

use gmsa_tests::dc::{dc, unique_account};
use gmsa_tests::*;
use rexpect::session::spawn_command;

fn wizard_command(cwd: &std::path::Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.arg("--kubeconfig")
        .arg(&cluster().kubeconfig)
        .arg("wizard");
    cmd.current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    cmd
}

/// Answer a yes/no prompt once it reads keys (its cursor is hidden then): `y`, Enter.
fn confirm(s: &mut rexpect::session::PtySession) {
    s.exp_string("[Y/n]").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    s.send("y\r").unwrap();
    s.flush().unwrap();
}

/// Take the default of a yes/no prompt (Enter alone) once it reads keys.
fn default_answer(s: &mut rexpect::session::PtySession, prompt: &str) {
    s.exp_string(prompt).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    s.send("\r").unwrap();
    s.flush().unwrap();
}

/// The wizard stopped before writing: the namespace holds no role binding.
fn assert_no_role_bindings(rt: &tokio::runtime::Runtime, ns: &str) {
    let bindings: kube::Api<k8s_openapi::api::rbac::v1::RoleBinding> =
        kube::Api::namespaced(rt.block_on(admin()), ns);
    let items = rt
        .block_on(bindings.list(&Default::default()))
        .unwrap()
        .items;
    assert!(items.is_empty(), "role bindings were made: {items:?}");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn the_wizard_ends_where_its_equivalent_command_ends() {
    let rt = runtime();
    rt.block_on(install_crd());
    let ns = rt.block_on(namespace(&["app"]));
    let name = unique("wiz");
    let role = format!("{name}-role");
    // The credential spec sits in the current folder, one of the usual places.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        example("credspecs/webapp01-domain-joined.json"),
        dir.path().join("webapp01.json"),
    )
    .unwrap();

    let mut s = spawn_command(wizard_command(dir.path()), Some(30_000)).unwrap();
    s.exp_string("Namespace of the workload").unwrap();
    s.send_line(&ns).unwrap();
    // The default webhook is not installed on the test cluster: decline the offer.
    s.exp_string("Install the webhook now").unwrap();
    s.exp_string("[Y/n]").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    s.send("n\r").unwrap();
    s.flush().unwrap();
    s.exp_string("Credential spec").unwrap();
    s.exp_string("webapp01.json").unwrap();
    s.send_line("").unwrap(); // the file found in the current folder
    s.exp_string("gMSA webapp01 in contoso.com").unwrap();
    s.exp_string("Name of the GMSACredentialSpec resource")
        .unwrap();
    s.send_line(&name).unwrap();
    s.exp_string("Name of the ClusterRole").unwrap();
    s.send_line(&role).unwrap();
    s.exp_string("Service accounts").unwrap();
    s.send_line("app").unwrap();
    s.exp_string("joined to the domain").unwrap();
    confirm(&mut s);
    s.exp_string("These objects will be applied").unwrap();
    default_answer(&mut s, "Show the YAML");
    s.exp_string("Apply?").unwrap();
    confirm(&mut s);
    s.exp_string(&format!("{ns}:app may use gmsacredentialspec/{name}"))
        .unwrap();
    s.exp_string("gmsaCredentialSpecName:").unwrap();
    default_answer(&mut s, "Attach gmsacredentialspec");
    s.exp_string("The same without questions:").unwrap();
    let rest = s.exp_eof().unwrap();
    let line = rest
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("kubectl gmsa"))
        .expect("the equivalent command")
        .to_owned();
    assert!(
        line.contains(&format!("--credspec-name {name}"))
            && line.contains(&format!("--cluster-role-name {role}")),
        "{line}"
    );

    // The equivalent command, run now, finds nothing to change: the same state.
    let args: Vec<&str> = line.split_whitespace().skip(2).collect();
    let mut cmd = Command::new(bin());
    cmd.args(&args).current_dir(dir.path()).env("NO_COLOR", "1");
    if !args.contains(&"--kubeconfig") {
        cmd.arg("--kubeconfig").arg(&cluster().kubeconfig);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches("unchanged").count(), 3, "{stdout}");
    assert!(rt
        .block_on(gmsa::cluster::access::may_use(
            &rt.block_on(admin()),
            &ns,
            "app",
            &name
        ))
        .unwrap());
}

#[test]
fn ctrl_c_at_a_prompt_writes_nothing_and_restores_the_cursor() {
    let rt = runtime();
    rt.block_on(install_crd());
    let ns = rt.block_on(namespace(&["app"]));
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        example("credspecs/webapp01-domain-joined.json"),
        dir.path().join("webapp01.json"),
    )
    .unwrap();
    let mut cmd = wizard_command(dir.path());
    cmd.arg("--no-install-webhook");
    let mut s = spawn_command(cmd, Some(30_000)).unwrap();
    s.exp_string("Namespace of the workload").unwrap();
    s.send_line(&ns).unwrap();
    s.exp_string("Credential spec").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    s.send_control('c').unwrap();
    let rest = s.exp_eof().unwrap();
    assert!(rest.contains("nothing was written"), "{rest:?}");
    assert!(
        rest.contains("\x1b[?25h"),
        "the cursor is shown again: {rest:?}"
    );
    // Nothing in the namespace: no role binding was made.
    assert_no_role_bindings(&rt, &ns);
}

#[test]
fn without_a_terminal_it_never_asks_and_names_the_missing_flags() {
    let r = gmsa(&["wizard"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("missing: --credspec-file"),
        "{}",
        r.stderr
    );
}

/// A gMSA made straight in the DC's database (enabled, host/ SPN, dNSHostName).
fn samba_gmsa(name: &str) {
    let d = dc();
    d.ldbadd(&format!(
        "dn: CN={name},CN=Managed Service Accounts,{}\nobjectClass: msDS-GroupManagedServiceAccount\nsAMAccountName: {name}$\ndNSHostName: {}.gmsa.test\nuserAccountControl: 4096\nmsDS-ManagedPasswordInterval: 30\nservicePrincipalName: host/{name}\n",
        d.base_dn(),
        name.to_lowercase()
    ));
}

/// Expect `text`, keeping everything the terminal showed up to it in `log`.
fn expect(s: &mut rexpect::session::PtySession, log: &mut String, text: &str) {
    let before = s
        .exp_string(text)
        .unwrap_or_else(|e| panic!("waiting for {text:?}: {e}\nso far:\n{log}"));
    log.push_str(&before);
    log.push_str(text);
}

/// Press a key once the prompt reads keys (select and confirm prompts hide the cursor then).
fn key(s: &mut rexpect::session::PtySession, k: &str) {
    std::thread::sleep(std::time::Duration::from_millis(300));
    s.send(k).unwrap();
    s.flush().unwrap();
}

/// Run one printed command line (`kubectl gmsa ...`) with the test binary.
fn run_printed(line: &str, cwd: &std::path::Path, password: Option<&str>) -> Run {
    let args: Vec<&str> = line.split_whitespace().skip(2).collect();
    let mut cmd = Command::new(bin());
    cmd.args(&args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("GMSA_LDAP_PASSWORD")
        .stdin(std::process::Stdio::null());
    if let Some(p) = password {
        cmd.env("GMSA_LDAP_PASSWORD", p);
    }
    let o = cmd.output().unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

#[test]
fn the_active_directory_path_with_the_webhook_offer_ends_where_its_equivalent_commands_end() {
    let rt = runtime();
    rt.block_on(install_crd());
    let d = dc();
    let admin_login = d.admin();
    let account = unique_account("wz");
    samba_gmsa(&account);
    let ns = rt.block_on(namespace(&["app"]));
    let (wh, wh_ns) = (unique("wzwh"), unique("wzwhns"));
    // An empty folder: no credential spec file is offered, Active Directory comes first.
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = wizard_command(dir.path());
    cmd.args(["--webhook-name", &wh, "--webhook-namespace", &wh_ns])
        .args(["--failure-policy", "ignore", "--no-wait"])
        .env_remove("GMSA_LDAP_PASSWORD");
    let mut s = spawn_command(cmd, Some(60_000)).unwrap();
    let mut log = String::new();

    expect(&mut s, &mut log, "Namespace of the workload");
    s.send_line(&ns).unwrap();
    expect(
        &mut s,
        &mut log,
        &format!("Webhook {wh} in namespace {wh_ns}: not installed"),
    );
    expect(&mut s, &mut log, "failure policy: Fail rejects pods");
    expect(&mut s, &mut log, "Install the webhook now");
    expect(&mut s, &mut log, "[Y/n]");
    key(&mut s, "y\r");
    expect(&mut s, &mut log, "Webhook certificates");
    key(&mut s, "\r"); // a CA made here
    expect(&mut s, &mut log, "Credential spec");
    expect(&mut s, &mut log, "generate it from Active Directory");
    key(&mut s, "\r");
    expect(&mut s, &mut log, "gMSA account name");
    s.send_line(&account).unwrap();
    expect(&mut s, &mut log, "Domain controller");
    s.send_line(d.ldaps()).unwrap();
    expect(&mut s, &mut log, "PEM file of the CA");
    s.send_line(d.ca()).unwrap();
    expect(&mut s, &mut log, "Bind as");
    s.send_line(admin_login.user).unwrap();
    expect(
        &mut s,
        &mut log,
        &format!("Password of {}", admin_login.user),
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    // A wrong password first: the wizard says so and asks again, the other answers kept.
    let wrong = "Not-The-Password-4471";
    s.send_line(wrong).unwrap();
    expect(&mut s, &mut log, "Change the answers and try again?");
    expect(&mut s, &mut log, "[Y/n]");
    key(&mut s, "y\r");
    for prompt in [
        "gMSA account name",
        "Domain controller",
        "PEM file of the CA",
        "Bind as",
    ] {
        expect(&mut s, &mut log, prompt);
        s.send_line("").unwrap(); // keep the previous answer
    }
    expect(
        &mut s,
        &mut log,
        &format!("Password of {}", admin_login.user),
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    s.send_line(admin_login.password).unwrap();
    expect(&mut s, &mut log, "Lint of credential spec: no findings");
    expect(
        &mut s,
        &mut log,
        &format!("gMSA {account} in gmsa.test (GMSATEST)"),
    );
    expect(&mut s, &mut log, "Name of the GMSACredentialSpec resource");
    // The suggestion: the account in lower case.
    let suggested = account.to_lowercase();
    expect(&mut s, &mut log, &suggested);
    s.send_line("").unwrap();
    expect(&mut s, &mut log, "Name of the ClusterRole");
    s.send_line("").unwrap();
    expect(&mut s, &mut log, "Service accounts");
    s.send_line("app").unwrap();
    expect(&mut s, &mut log, "joined to the domain");
    expect(&mut s, &mut log, "[Y/n]");
    key(&mut s, "y\r");
    expect(&mut s, &mut log, "These objects will be applied");
    expect(
        &mut s,
        &mut log,
        &format!("create MutatingWebhookConfiguration {wh}"),
    );
    expect(&mut s, &mut log, "Show the YAML");
    expect(&mut s, &mut log, "[y/N]");
    key(&mut s, "y\r");
    expect(&mut s, &mut log, "kind: MutatingWebhookConfiguration");
    expect(&mut s, &mut log, "kind: GMSACredentialSpec");
    expect(&mut s, &mut log, "Apply?");
    expect(&mut s, &mut log, "[Y/n]");
    key(&mut s, "y\r");
    expect(
        &mut s,
        &mut log,
        &format!("mutatingwebhookconfiguration.admissionregistration.k8s.io/{wh} created"),
    );
    expect(
        &mut s,
        &mut log,
        &format!("{ns}:app may use gmsacredentialspec/{suggested}"),
    );
    expect(
        &mut s,
        &mut log,
        &format!("gmsaCredentialSpecName: {suggested}"),
    );
    expect(&mut s, &mut log, "nltest /sc_verify:gmsa.test");
    expect(&mut s, &mut log, "Attach gmsacredentialspec");
    expect(&mut s, &mut log, "[y/N]");
    key(&mut s, "\r");
    expect(&mut s, &mut log, "The same without questions:");
    log.push_str(&s.exp_eof().unwrap());
    let cleanup = || {
        let _ = gmsa(&["uninstall-webhook", "--name", &wh, "-n", &wh_ns]);
    };

    // The password was typed at a hidden prompt: it shows nowhere.
    assert!(
        !log.contains(admin_login.password),
        "the password was shown:\n{log}"
    );
    assert!(!log.contains(wrong), "the wrong password was shown:\n{log}");
    let printed = log.split("The same without questions:").nth(1).unwrap();
    let lines: Vec<&str> = printed
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("kubectl gmsa"))
        .collect();
    assert_eq!(
        lines.len(),
        3,
        "install-webhook, new-credspec, add-credspec:\n{printed}"
    );
    assert!(
        lines[0].contains("install-webhook")
            && lines[0].contains(&format!("--name {wh}"))
            && lines[0].contains("--failure-policy Ignore")
            && lines[0].contains("--no-wait"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("new-credspec")
            && lines[1].contains(&format!("--account {account}"))
            && lines[1].contains("--user"),
        "{}",
        lines[1]
    );
    assert!(printed.contains("$GMSA_LDAP_PASSWORD"), "{printed}");
    assert!(
        lines[2].contains("add-credspec")
            && lines[2].contains(&format!("--credspec-name {suggested}")),
        "{}",
        lines[2]
    );

    // The printed commands, run now, find nothing to change: the same state.
    let work = tempfile::tempdir().unwrap();
    let installed = run_printed(lines[0], work.path(), None);
    if installed.code != 0 {
        cleanup();
    }
    installed.ok();
    assert!(
        !installed.stdout.contains(" created") && !installed.stdout.contains(" configured"),
        "{}",
        installed.stdout
    );
    assert!(
        installed.stdout.contains("certificate kept"),
        "{}",
        installed.stdout
    );
    let generated = run_printed(lines[1], work.path(), Some(admin_login.password));
    generated.ok();
    let added = run_printed(lines[2], work.path(), None);
    added.ok();
    assert_eq!(
        added.stdout.matches("unchanged").count(),
        3,
        "{}",
        added.stdout
    );
    // The file new-credspec wrote holds what the wizard put in the cluster.
    let file = lines[1].rsplit(' ').next().unwrap();
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.path().join(file)).unwrap()).unwrap();
    assert_eq!(
        spec["DomainJoinConfig"]["MachineAccountName"],
        account.as_str()
    );
    assert!(rt
        .block_on(gmsa::cluster::access::may_use(
            &rt.block_on(admin()),
            &ns,
            "app",
            &suggested
        ))
        .unwrap());
    // The webhook the wizard installed is the one status reports (objects present).
    let status = gmsa(&["status", "--name", &wh, "-n", &wh_ns, "-o", "json"]);
    let st: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(st["deployment"]["present"], true, "{}", status.stdout);
    assert_eq!(
        st["webhooks"][0]["failure_policy"], "Ignore",
        "{}",
        status.stdout
    );
    cleanup();
}

#[test]
fn ctrl_c_at_the_password_prompt_writes_nothing_and_shows_nothing_typed() {
    let rt = runtime();
    rt.block_on(install_crd());
    let d = dc();
    let ns = rt.block_on(namespace(&["app"]));
    let dir = tempfile::tempdir().unwrap();
    let typed = "Typed-Secret-9913";
    // In a shell that survives the interrupt, to ask the terminal afterwards whether it
    // echoes again (a hidden prompt turns echo off). rexpect starts the terminal without
    // echo: turn it on first, as a user's terminal is.
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg("trap : INT; stty echo; \"$@\"; echo \"exit=$?\"; stty -a")
        .arg("bash")
        .arg(bin())
        .arg("--kubeconfig")
        .arg(&cluster().kubeconfig)
        .args(["wizard", "-n", &ns, "--no-install-webhook"])
        .args([
            "--account",
            "nobody",
            "--server",
            d.ldaps(),
            "--ca-file",
            d.ca(),
        ])
        .args(["--user", d.admin().user])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env_remove("GMSA_LDAP_PASSWORD");
    let mut s = spawn_command(cmd, Some(30_000)).unwrap();
    let mut log = String::new();
    expect(&mut s, &mut log, "Password of");
    key(&mut s, typed);
    key(&mut s, "\x03");
    log.push_str(&s.exp_eof().unwrap());
    assert!(log.contains("nothing was written"), "{log:?}");
    assert!(log.contains("exit=130"), "{log:?}");
    assert!(!log.contains(typed), "what was typed was shown: {log:?}");
    let words: Vec<&str> = log.split_whitespace().collect();
    assert!(
        words.contains(&"echo") && !words.contains(&"-echo"),
        "the terminal echoes again: {log:?}"
    );
    // Nothing written: no role binding in the namespace, no file in the folder.
    assert_no_role_bindings(&rt, &ns);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn without_a_terminal_the_active_directory_path_names_its_missing_flags() {
    let d = dc();
    let r = gmsa(&["wizard", "--account", "WebApp01"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("missing: --server URL (or --domain DOMAIN)"),
        "{}",
        r.stderr
    );
    // A bind user without $GMSA_LDAP_PASSWORD: the password is named, never asked for.
    let mut cmd = Command::new(bin());
    cmd.arg("--kubeconfig")
        .arg(&cluster().kubeconfig)
        .args(["wizard", "--account", "WebApp01", "--server", d.ldaps()])
        .args(["--user", d.admin().user])
        .env("NO_COLOR", "1")
        .env_remove("GMSA_LDAP_PASSWORD")
        .stdin(std::process::Stdio::null());
    let o = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("missing: $GMSA_LDAP_PASSWORD"), "{stderr}");
    assert!(o.stdout.is_empty());
}

#[test]
fn with_yes_it_generates_from_the_directory_and_installs_the_webhook_only_when_told() {
    let rt = runtime();
    rt.block_on(install_crd());
    let d = dc();
    let account = unique_account("wy");
    samba_gmsa(&account);
    let ns = rt.block_on(namespace(&["app"]));
    let (wh, wh_ns) = (unique("wywh"), unique("wywhns"));
    let base = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "wizard",
            "--yes",
            "-n",
            &ns,
            "--service-account",
            "app",
            "--account",
            &account,
            "--server",
            d.ldaps(),
            "--ca-file",
            d.ca(),
            "--user",
            d.admin().user,
            "--webhook-name",
            &wh,
            "--webhook-namespace",
            &wh_ns,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |args: Vec<String>| -> Run {
        let mut cmd = Command::new(bin());
        cmd.arg("--kubeconfig")
            .arg(&cluster().kubeconfig)
            .args(&args)
            .env("NO_COLOR", "1")
            .env("GMSA_LDAP_PASSWORD", d.admin().password)
            .stdin(std::process::Stdio::null());
        let o = cmd.output().unwrap();
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    };
    // Not told to install: the webhook is left alone (the CRD is there, so it goes on).
    let first = run(base(&[
        "--credspec-name",
        &format!("{}-a", account.to_lowercase()),
    ]));
    first.ok();
    assert!(
        !first.stdout.contains("install-webhook"),
        "{}",
        first.stdout
    );
    assert!(
        first.stderr.contains("--install-webhook installs it"),
        "{}",
        first.stderr
    );
    assert!(
        !first.stdout.contains(d.admin().password) && !first.stderr.contains(d.admin().password)
    );
    // Told to: installed, and the equivalent commands start with it.
    let second = run(base(&[
        "--install-webhook",
        "--failure-policy",
        "Ignore",
        "--no-wait",
    ]));
    let result = std::panic::catch_unwind(|| {
        second.ok();
        assert!(
            second
                .stdout
                .contains(&format!("deployment.apps/{wh} -n {wh_ns} created")),
            "{}",
            second.stdout
        );
        let printed = second
            .stdout
            .split("The same without questions:")
            .nth(1)
            .unwrap();
        assert!(
            printed.trim_start().starts_with("kubectl gmsa"),
            "{printed}"
        );
        assert!(
            printed.contains(&format!(
                "install-webhook --name {wh} -n {wh_ns} --failure-policy Ignore --no-wait"
            )),
            "{printed}"
        );
    });
    let _ = gmsa(&["uninstall-webhook", "--name", &wh, "-n", &wh_ns]);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn a_pasted_credential_spec_ends_where_the_printed_add_credspec_ends() {
    let rt = runtime();
    rt.block_on(install_crd());
    let ns = rt.block_on(namespace(&["app"]));
    let name = unique("wzp");
    let role = format!("{name}-role");
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = wizard_command(dir.path());
    cmd.args([
        "-n",
        &ns,
        "--no-install-webhook",
        "--service-account",
        "app",
    ])
    .args(["--credspec-name", &name, "--cluster-role-name", &role]);
    let mut s = spawn_command(cmd, Some(30_000)).unwrap();
    let mut log = String::new();
    expect(&mut s, &mut log, "Credential spec");
    expect(&mut s, &mut log, "paste the JSON");
    key(&mut s, "\x1b[B"); // down: from Active Directory to paste
    key(&mut s, "\r");
    expect(&mut s, &mut log, "Paste the credential spec JSON");
    let sample = std::fs::read_to_string(example("credspecs/webapp01-domain-joined.json")).unwrap();
    for line in sample.lines() {
        s.send_line(line).unwrap();
    }
    expect(&mut s, &mut log, "Lint of pasted credential spec");
    expect(&mut s, &mut log, "gMSA webapp01 in contoso.com");
    expect(&mut s, &mut log, "joined to the domain");
    expect(&mut s, &mut log, "[Y/n]");
    key(&mut s, "y\r");
    expect(&mut s, &mut log, "Show the YAML");
    key(&mut s, "\r");
    expect(&mut s, &mut log, "Apply?");
    expect(&mut s, &mut log, "[Y/n]");
    key(&mut s, "y\r");
    expect(
        &mut s,
        &mut log,
        &format!("{ns}:app may use gmsacredentialspec/{name}"),
    );
    expect(&mut s, &mut log, "Attach gmsacredentialspec");
    key(&mut s, "\r");
    expect(&mut s, &mut log, "The same without questions:");
    log.push_str(&s.exp_eof().unwrap());
    let printed = log.split("The same without questions:").nth(1).unwrap();
    assert!(
        printed.contains("# save the JSON you pasted as contoso_webapp01.json"),
        "{printed}"
    );
    let line = printed
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("kubectl gmsa"))
        .expect("the add-credspec line");
    assert!(
        line.contains("add-credspec --credspec-file contoso_webapp01.json"),
        "{line}"
    );
    // Saved as told, the printed command finds nothing to change.
    std::fs::write(dir.path().join("contoso_webapp01.json"), &sample).unwrap();
    let r = run_printed(line, dir.path(), None);
    r.ok();
    assert_eq!(r.stdout.matches("unchanged").count(), 3, "{}", r.stdout);
}

/// `cmd` run by a shell that first runs `setup` (e.g. `stty cols 40`), survives Ctrl-C, and
/// prints the wizard's exit status as `exit=N` once it ends.
fn in_shell(cmd: &Command, setup: &str) -> Command {
    let mut sh = Command::new("bash");
    sh.arg("-c")
        .arg(format!("trap : INT; {setup}; \"$@\"; echo \"exit=$?\""))
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
fn folder_with_a_credspec() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        example("credspecs/webapp01-domain-joined.json"),
        dir.path().join("webapp01.json"),
    )
    .unwrap();
    dir
}

/// What the terminal shows, without its escape sequences (colours, cursor moves). rexpect
/// hands over each byte as one char: they are decoded as UTF-8 again first.
fn plain(text: &str) -> String {
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

#[test]
fn n_then_enter_is_one_answer_and_the_next_menu_still_waits() {
    let rt = runtime();
    rt.block_on(install_crd());
    let ns = rt.block_on(namespace(&["app"]));
    let dir = folder_with_a_credspec();
    let mut cmd = wizard_command(dir.path());
    cmd.args(["-n", &ns]).args([
        "--webhook-name",
        &unique("wzq"),
        "--webhook-namespace",
        &unique("wzqns"),
    ]);
    let mut s = spawn_command(cmd, Some(30_000)).unwrap();
    let mut log = String::new();
    // Regression: a one-key Confirm took `n` and left the Enter to the next menu, which
    // picked its first entry (the webapp01.json found in the folder).
    expect(&mut s, &mut log, "Install the webhook now");
    expect(&mut s, &mut log, "[Y/n]");
    key(&mut s, "n\r");
    expect(&mut s, &mut log, "Credential spec");
    expect(&mut s, &mut log, "another file...");
    // The menu waits: down once (to Active Directory) and Enter picks that, not the file.
    key(&mut s, "\x1b[B");
    key(&mut s, "\r");
    expect(&mut s, &mut log, "gMSA account name");
    assert!(!log.contains("Lint of"), "the file was picked:\n{log}");
    assert!(
        !plain(&log).contains("Install the webhook now (at the end, after the preview)? yes"),
        "{log}"
    );
    key(&mut s, "\x03");
    log.push_str(&s.exp_eof().unwrap());
    assert!(log.contains("nothing was written"), "{log}");
    assert_no_role_bindings(&rt, &ns);
}

#[test]
fn ctrl_c_at_a_text_prompt_says_so_on_its_own_line_and_exits_130() {
    let rt = runtime();
    rt.block_on(install_crd());
    let ns = rt.block_on(namespace(&["app"]));
    let dir = folder_with_a_credspec();
    let mut cmd = wizard_command(dir.path());
    cmd.args(["-n", &ns, "--no-install-webhook"]);
    let mut s = spawn_command(in_shell(&cmd, "true"), Some(30_000)).unwrap();
    let mut log = String::new();
    expect(&mut s, &mut log, "Credential spec");
    expect(&mut s, &mut log, "another file...");
    key(&mut s, "\r");
    expect(&mut s, &mut log, "Name of the GMSACredentialSpec resource");
    key(&mut s, "half-typed");
    key(&mut s, "\x03");
    log.push_str(&s.exp_eof().unwrap());
    assert!(log.contains("exit=130"), "{log:?}");
    let shown = plain(&log);
    assert!(
        shown
            .lines()
            .any(|l| l.trim_end() == "interrupted; nothing was written"),
        "the message is not on a line of its own:\n{shown}"
    );
    assert!(!shown.contains("error:"), "{shown}");
    assert_no_role_bindings(&rt, &ns);
}

#[test]
fn an_invalid_answer_is_asked_again_in_place_and_the_preview_is_one_line_per_object() {
    let rt = runtime();
    rt.block_on(install_crd());
    let ns = rt.block_on(namespace(&["app"]));
    let name = unique("wzv");
    let role = format!("{name}-role");
    let dir = folder_with_a_credspec();
    let mut cmd = wizard_command(dir.path());
    cmd.args(["-n", &ns, "--no-install-webhook"]).args([
        "--credspec-name",
        &name,
        "--cluster-role-name",
        &role,
    ]);
    let mut s = spawn_command(cmd, Some(30_000)).unwrap();
    let mut log = String::new();
    expect(&mut s, &mut log, "another file...");
    key(&mut s, "\r");
    expect(&mut s, &mut log, "gMSA webapp01 in contoso.com");
    expect(&mut s, &mut log, "Service accounts");
    // `App` is not a DNS-1123 name: said at once, and the same question comes back.
    s.send_line("App").unwrap();
    expect(&mut s, &mut log, "invalid service account name");
    expect(&mut s, &mut log, "Service accounts");
    s.send_line("app").unwrap();
    expect(&mut s, &mut log, "joined to the domain");
    expect(&mut s, &mut log, "[Y/n]");
    key(&mut s, "y\r");
    expect(&mut s, &mut log, "These objects will be applied");
    expect(&mut s, &mut log, "Show the YAML");
    expect(&mut s, &mut log, "[y/N]");
    key(&mut s, "\r");
    expect(&mut s, &mut log, "Apply?");
    let preview = plain(&log);
    let preview = preview
        .split("These objects will be applied:")
        .nth(1)
        .unwrap();
    for l in [
        format!("create GMSACredentialSpec {name}"),
        format!("create ClusterRole {role}"),
    ] {
        assert!(
            preview.lines().any(|x| x.trim() == l),
            "no line {l:?}:\n{preview}"
        );
    }
    assert!(
        preview
            .lines()
            .any(|x| x.trim().starts_with("create RoleBinding") && x.ends_with(&format!("-n {ns}"))),
        "{preview}"
    );
    assert!(
        !preview.contains("kind: "),
        "YAML shown unasked:\n{preview}"
    );
    expect(&mut s, &mut log, "[Y/n]");
    key(&mut s, "y\r");
    expect(
        &mut s,
        &mut log,
        &format!("{ns}:app may use gmsacredentialspec/{name}"),
    );
    expect(&mut s, &mut log, "Attach gmsacredentialspec");
    key(&mut s, "\r");
    expect(&mut s, &mut log, "The same without questions:");
    log.push_str(&s.exp_eof().unwrap());
    assert!(
        log.contains(&format!("--service-account app -n {ns}")),
        "{log}"
    );
    assert!(rt
        .block_on(gmsa::cluster::access::may_use(
            &rt.block_on(admin()),
            &ns,
            "app",
            &name
        ))
        .unwrap());
}

#[test]
fn long_lines_wrap_to_a_narrow_terminal_at_word_boundaries() {
    let rt = runtime();
    rt.block_on(install_crd());
    let ns = rt.block_on(namespace(&["app"]));
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = wizard_command(dir.path());
    // Names short enough for 40 columns (a word longer than the line cannot stay whole).
    let id = std::process::id() % 100_000;
    cmd.args(["-n", &ns]).args([
        "--webhook-name",
        &format!("w{id}"),
        "--webhook-namespace",
        &format!("wn{id}"),
    ]);
    let mut s = spawn_command(in_shell(&cmd, "stty cols 40 rows 60"), Some(30_000)).unwrap();
    let mut log = String::new();
    expect(&mut s, &mut log, "[Y/n]");
    key(&mut s, "\x03");
    log.push_str(&s.exp_eof().unwrap());
    let shown = plain(&log);
    let until_prompt = shown.split("[Y/n]").next().unwrap();
    for line in until_prompt.lines() {
        assert!(
            line.chars().count() <= 40,
            "{} columns: {line:?}\n{shown}",
            line.chars().count()
        );
    }
    // Every word is whole: the text, its line breaks read as spaces, is the sentence.
    let words = until_prompt
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for sentence in [
        "failure policy: Fail rejects pods while the webhook is down (upstream's choice); Ignore admits them unchecked",
        "replicas: 2 pods and a PodDisruptionBudget, so draining a node never stops the webhook",
        "Install the webhook now (at the end, after the preview)?",
    ] {
        assert!(words.contains(sentence), "{sentence:?} split:\n{shown}");
    }
    assert!(shown.contains("exit=130"), "{shown}");
}

#[test]
fn with_no_rights_it_stops_before_asking_and_names_what_is_missing() {
    let rt = runtime();
    rt.block_on(install_crd());
    let ns = rt.block_on(namespace(&["app"]));
    let dir = folder_with_a_credspec();
    // A user of its own, bound to nothing.
    let kubeconfig = kubeconfig_as(&unique("nobody"), dir.path());
    let mut cmd = Command::new(bin());
    cmd.arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["wizard", "-n", &ns])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    let mut s = spawn_command(in_shell(&cmd, "true"), Some(30_000)).unwrap();
    let log = s.exp_eof().unwrap();
    assert!(log.contains("exit=5"), "{log}");
    assert!(
        log.contains("may write none of what the wizard makes"),
        "{log}"
    );
    assert!(log.contains("create gmsacredentialspecs"), "{log}");
    assert!(log.contains("cluster administrator"), "{log}");
    assert!(
        !log.contains("Credential spec"),
        "it went on asking:\n{log}"
    );
    assert!(!log.contains("Install the webhook"), "{log}");
}

#[test]
fn the_wizard_offers_attach_and_the_deployment_then_runs_as_the_gmsa() {
    use k8s_openapi::api::apps::v1::Deployment;
    let rt = runtime();
    rt.block_on(install_crd());
    let ns = rt.block_on(namespace(&["app"]));
    let name = unique("wza");
    let dir = folder_with_a_credspec();
    let deployments: kube::Api<Deployment> = kube::Api::namespaced(rt.block_on(admin()), &ns);
    let web: Deployment = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "web" },
        "spec": {
            "selector": { "matchLabels": { "app": "web" } },
            "template": {
                "metadata": { "labels": { "app": "web" } },
                "spec": { "serviceAccountName": "app", "containers": [{ "name": "web", "image": "mcr.microsoft.com/windows/servercore/iis" }] }
            }
        }
    }))
    .unwrap();
    rt.block_on(deployments.create(&Default::default(), &web))
        .unwrap();
    let mut cmd = wizard_command(dir.path());
    cmd.args([
        "-n",
        &ns,
        "--no-install-webhook",
        "--service-account",
        "app",
    ])
    .args(["--credspec-name", &name]);
    let mut s = spawn_command(cmd, Some(30_000)).unwrap();
    let mut log = String::new();
    expect(&mut s, &mut log, "another file...");
    key(&mut s, "\r");
    expect(&mut s, &mut log, "Name of the ClusterRole");
    s.send_line("").unwrap();
    expect(&mut s, &mut log, "joined to the domain");
    expect(&mut s, &mut log, "[Y/n]");
    key(&mut s, "y\r");
    expect(&mut s, &mut log, "Show the YAML");
    expect(&mut s, &mut log, "[y/N]");
    key(&mut s, "\r");
    expect(&mut s, &mut log, "Apply?");
    expect(&mut s, &mut log, "[Y/n]");
    key(&mut s, "y\r");
    expect(
        &mut s,
        &mut log,
        &format!("Attach gmsacredentialspec/{name} to a workload in namespace {ns}"),
    );
    expect(&mut s, &mut log, "[y/N]");
    key(&mut s, "y\r");
    expect(&mut s, &mut log, "deployment/web");
    expect(&mut s, &mut log, "another (type KIND/NAME)...");
    key(&mut s, "\r");
    expect(&mut s, &mut log, "Attaching to deployment/web will:");
    expect(
        &mut s,
        &mut log,
        &format!("configure Deployment web -n {ns}"),
    );
    expect(&mut s, &mut log, "Attach?");
    expect(&mut s, &mut log, "[Y/n]");
    // Nothing is attached before the answer (the preview was a server dry run).
    let before = rt.block_on(deployments.get("web")).unwrap();
    let before = before.spec.unwrap().template.spec.unwrap();
    assert!(
        before
            .security_context
            .and_then(|c| c.windows_options)
            .is_none(),
        "attached before the answer"
    );
    key(&mut s, "y\r");
    expect(&mut s, &mut log, "The same without questions:");
    log.push_str(&s.exp_eof().unwrap());

    let d = rt.block_on(deployments.get("web")).unwrap();
    let pod = d.spec.unwrap().template.spec.unwrap();
    assert_eq!(
        pod.security_context
            .and_then(|c| c.windows_options)
            .and_then(|w| w.gmsa_credential_spec_name)
            .as_deref(),
        Some(name.as_str())
    );
    assert_eq!(
        pod.node_selector
            .unwrap_or_default()
            .get("kubernetes.io/os")
            .map(String::as_str),
        Some("windows")
    );
    // The printed attach line, run now, changes nothing.
    let printed = log.split("The same without questions:").nth(1).unwrap();
    let line = printed
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("kubectl gmsa") && l.contains(" attach "))
        .unwrap_or_else(|| panic!("no attach line:\n{printed}"));
    assert!(
        line.contains(&format!(
            "attach deployment/web --credspec-name {name} -n {ns} --bind"
        )),
        "{line}"
    );
    // It names the test's kubeconfig, as the wizard was run with it.
    assert!(line.contains("--kubeconfig"), "{line}");
    let again = run_printed(line, dir.path(), None);
    again.ok();
    assert!(again.stdout.contains("unchanged"), "{}", again.stdout);
    assert!(!again.stdout.contains("configured"), "{}", again.stdout);
}

#[test]
fn with_yes_and_attach_it_attaches_without_asking() {
    use k8s_openapi::api::apps::v1::StatefulSet;
    let rt = runtime();
    rt.block_on(install_crd());
    let ns = rt.block_on(namespace(&["app"]));
    let name = unique("wzy");
    let sets: kube::Api<StatefulSet> = kube::Api::namespaced(rt.block_on(admin()), &ns);
    let db: StatefulSet = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "db" },
        "spec": {
            "serviceName": "db",
            "selector": { "matchLabels": { "app": "db" } },
            "template": {
                "metadata": { "labels": { "app": "db" } },
                "spec": { "containers": [{ "name": "db", "image": "mcr.microsoft.com/mssql/server" }] }
            }
        }
    }))
    .unwrap();
    rt.block_on(sets.create(&Default::default(), &db)).unwrap();
    let file = example("credspecs/webapp01-domain-joined.json");
    let r = gmsa(&[
        "wizard",
        "--yes",
        "-n",
        &ns,
        "--no-install-webhook",
        "--credspec-file",
        file.to_str().unwrap(),
        "--credspec-name",
        &name,
        "--attach",
        "statefulset/db",
    ]);
    r.ok();
    assert!(
        r.stdout.contains(&format!(
            "attach statefulset/db --credspec-name {name} -n {ns} --bind"
        )),
        "{}",
        r.stdout
    );
    let got = rt.block_on(sets.get("db")).unwrap();
    let pod = got.spec.unwrap().template.spec.unwrap();
    assert_eq!(
        pod.security_context
            .and_then(|c| c.windows_options)
            .and_then(|w| w.gmsa_credential_spec_name)
            .as_deref(),
        Some(name.as_str())
    );
    // Run again: the preview says every object is unchanged, and so does attach.
    let again = gmsa(&[
        "wizard",
        "--yes",
        "-n",
        &ns,
        "--no-install-webhook",
        "--credspec-file",
        file.to_str().unwrap(),
        "--credspec-name",
        &name,
        "--attach",
        "statefulset/db",
    ]);
    again.ok();
    assert!(
        again
            .stderr
            .contains(&format!("unchanged GMSACredentialSpec {name}")),
        "{}",
        again.stderr
    );
    assert!(
        again
            .stdout
            .contains(&format!("statefulset.apps/db -n {ns} unchanged")),
        "{}",
        again.stdout
    );
    // A bad --attach is refused before anything is read or written.
    let bad = gmsa(&[
        "wizard",
        "--yes",
        "-n",
        &ns,
        "--credspec-file",
        file.to_str().unwrap(),
        "--attach",
        "pod/web",
    ]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("invalid --attach"), "{}", bad.stderr);
}

#[test]
fn a_workload_that_does_not_exist_is_said_at_once_and_another_is_asked_for() {
    let rt = runtime();
    rt.block_on(install_crd());
    let ns = rt.block_on(namespace(&["app"]));
    let name = unique("wzw");
    let dir = folder_with_a_credspec();
    let mut cmd = wizard_command(dir.path());
    cmd.args([
        "-n",
        &ns,
        "--no-install-webhook",
        "--service-account",
        "app",
    ])
    .args(["--credspec-name", &name, "--cluster-role-name", &name]);
    let mut s = spawn_command(in_shell(&cmd, "true"), Some(30_000)).unwrap();
    let mut log = String::new();
    expect(&mut s, &mut log, "another file...");
    key(&mut s, "\r");
    expect(&mut s, &mut log, "joined to the domain");
    key(&mut s, "y\r");
    expect(&mut s, &mut log, "Show the YAML");
    key(&mut s, "\r");
    expect(&mut s, &mut log, "Apply?");
    key(&mut s, "y\r");
    expect(&mut s, &mut log, "Attach gmsacredentialspec");
    key(&mut s, "y\r");
    // No workload in the namespace: the kind and name are typed, and checked.
    expect(&mut s, &mut log, "no deployment, statefulset or daemonset");
    expect(&mut s, &mut log, "Workload (deployment/NAME");
    s.send_line("web").unwrap();
    expect(&mut s, &mut log, "is not KIND/NAME");
    s.send_line("deployment/nope").unwrap();
    expect(&mut s, &mut log, "deployment/nope does not exist");
    expect(&mut s, &mut log, "Choose another workload?");
    key(&mut s, "y\r");
    expect(&mut s, &mut log, "Workload (deployment/NAME");
    key(&mut s, "\x03");
    log.push_str(&s.exp_eof().unwrap());
    assert!(log.contains("exit=130"), "{log}");
    // The credential spec was added before: Ctrl-C says that it stays.
    assert!(
        plain(&log).lines().any(|l| l.trim_end()
            == "interrupted; what was applied above stays; nothing more was written"),
        "{log}"
    );
    assert!(rt
        .block_on(gmsa::cluster::access::may_use(
            &rt.block_on(admin()),
            &ns,
            "app",
            &name
        ))
        .unwrap());
}
