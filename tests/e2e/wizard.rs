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

/// Answer a yes/no prompt once it reads keys (its cursor is hidden then).
fn confirm(s: &mut rexpect::session::PtySession) {
    s.exp_string("[Y/n]").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    s.send("y").unwrap();
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
    s.send("n").unwrap();
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
    s.exp_string("Apply?").unwrap();
    confirm(&mut s);
    s.exp_string(&format!("{ns}:app may use gmsacredentialspec/{name}"))
        .unwrap();
    s.exp_string("gmsaCredentialSpecName:").unwrap();
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
    key(&mut s, "y");
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
    key(&mut s, "y");
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
    key(&mut s, "y");
    expect(&mut s, &mut log, "These objects will be applied");
    expect(&mut s, &mut log, "kind: MutatingWebhookConfiguration");
    expect(&mut s, &mut log, "kind: GMSACredentialSpec");
    expect(&mut s, &mut log, "Apply?");
    expect(&mut s, &mut log, "[Y/n]");
    key(&mut s, "y");
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
    key(&mut s, "y");
    expect(&mut s, &mut log, "Apply?");
    expect(&mut s, &mut log, "[Y/n]");
    key(&mut s, "y");
    expect(
        &mut s,
        &mut log,
        &format!("{ns}:app may use gmsacredentialspec/{name}"),
    );
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
