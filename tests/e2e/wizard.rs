//! The wizard in a real pseudo-terminal: answered prompt by prompt (a credential spec file,
//! or one generated from the real test DC with the webhook installed on the way), it must
//! leave the cluster exactly as the equivalent non-interactive commands (which it prints)
//! leave it; Ctrl-C at a prompt (the hidden password one too) writes nothing, shows none of
//! what was typed and gives the terminal back; without a terminal it names missing flags.

use std::process::Command;

use gmsa_tests::dc::{dc, unique_account};
use gmsa_tests::wizard::*;
use gmsa_tests::*;

#[test]
fn the_wizard_ends_where_its_equivalent_command_ends() {
    let (rt, ns) = namespace_with_app();
    let name = unique("wiz");
    let role = format!("{name}-role");
    // The credential spec sits in the current folder, one of the usual places.
    let dir = folder_with_a_credspec();
    let mut w = Wizard::start(wizard_command(dir.path()), 30_000);
    w.answer("Namespace of the workload", &ns);
    // The default webhook is not installed on the test cluster: decline the offer.
    w.expect("Install the webhook now")
        .expect("[Y/n]")
        .press("n\r");
    w.expect("Credential spec").expect("webapp01.json");
    w.type_line(""); // the file found in the current folder
    w.expect("gMSA webapp01 in contoso.com");
    w.answer("Name of the GMSACredentialSpec resource", &name);
    w.answer("Name of the ClusterRole", &role);
    w.answer("Service accounts", "app");
    w.yes("joined to the domain");
    w.expect("These objects will be applied");
    w.no("Show the YAML").yes("Apply?");
    w.expect(&format!("{ns}:app may use gmsacredentialspec/{name}"));
    w.expect("gmsaCredentialSpecName:");
    w.attach_nothing();
    let line = *command_lines(w.printed())
        .first()
        .expect("the equivalent command");
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
    let r = to_run(cmd.output().unwrap());
    r.ok();
    assert_eq!(r.stdout.matches("unchanged").count(), 3, "{}", r.stdout);
    assert!(may_use(&rt, &ns, "app", &name));
}

#[test]
fn ctrl_c_at_a_prompt_writes_nothing_and_restores_the_cursor() {
    let (rt, ns) = namespace_with_app();
    let dir = folder_with_a_credspec();
    let mut cmd = wizard_command(dir.path());
    cmd.arg("--no-install-webhook");
    let mut w = Wizard::start(cmd, 30_000);
    w.answer("Namespace of the workload", &ns);
    w.expect("Credential spec");
    let rest = w.interrupt();
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
    r.stderr_has("missing: --credspec-file");
}

#[test]
fn the_active_directory_path_with_the_webhook_offer_ends_where_its_equivalent_commands_end() {
    let (rt, ns) = namespace_with_app();
    let d = dc();
    let admin_login = d.admin();
    let account = unique_account("wz");
    dc().add_gmsa(&account);
    let (wh, wh_ns) = (unique("wzwh"), unique("wzwhns"));
    // An empty folder: no credential spec file is offered, Active Directory comes first.
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = wizard_command(dir.path());
    cmd.args(["--webhook-name", &wh, "--webhook-namespace", &wh_ns])
        .args(["--failure-policy", "ignore", "--no-wait"])
        .env_remove("GMSA_LDAP_PASSWORD");
    let mut w = Wizard::start(cmd, 60_000);

    w.answer("Namespace of the workload", &ns);
    w.expect(&format!("Webhook {wh} in namespace {wh_ns}: not installed"));
    w.expect("failure policy: Fail rejects pods");
    w.yes("Install the webhook now");
    w.expect("Webhook certificates").press("\r"); // a CA made here
    w.expect("Credential spec")
        .expect("generate it from Active Directory")
        .press("\r");
    w.answer("gMSA account name", &account);
    w.answer("Domain controller", d.ldaps());
    w.answer("PEM file of the CA", d.ca());
    w.answer("Bind as", admin_login.user);
    let password_prompt = format!("Password of {}", admin_login.user);
    // A wrong password first: the wizard says so and asks again, the other answers kept.
    let wrong = "Not-The-Password-4471";
    w.expect(&password_prompt).type_secret(wrong);
    w.yes("Change the answers and try again?");
    for prompt in [
        "gMSA account name",
        "Domain controller",
        "PEM file of the CA",
        "Bind as",
    ] {
        w.answer(prompt, ""); // keep the previous answer
    }
    w.expect(&password_prompt).type_secret(admin_login.password);
    w.expect("Lint of credential spec: no findings");
    w.expect(&format!("gMSA {account} in gmsa.test (GMSATEST)"));
    w.expect("Name of the GMSACredentialSpec resource");
    // The suggestion: the account in lower case.
    let suggested = account.to_lowercase();
    w.answer(&suggested, "");
    w.answer("Name of the ClusterRole", "");
    w.answer("Service accounts", "app");
    w.yes("joined to the domain");
    w.expect("These objects will be applied");
    w.expect(&format!("create MutatingWebhookConfiguration {wh}"));
    w.expect("Show the YAML").expect("[y/N]").press("y\r");
    w.expect("kind: MutatingWebhookConfiguration");
    w.expect("kind: GMSACredentialSpec");
    w.yes("Apply?");
    w.expect(&format!(
        "mutatingwebhookconfiguration.admissionregistration.k8s.io/{wh} created"
    ));
    w.expect(&format!("{ns}:app may use gmsacredentialspec/{suggested}"));
    w.expect(&format!("gmsaCredentialSpecName: {suggested}"));
    w.expect("nltest /sc_verify:gmsa.test");
    w.no("Attach gmsacredentialspec");
    w.expect(SAME_WITHOUT_QUESTIONS).finish();
    let cleanup = || {
        let _ = gmsa(&["uninstall-webhook", "--name", &wh, "-n", &wh_ns]);
    };

    // The password was typed at a hidden prompt: it shows nowhere.
    let log = &w.log;
    assert!(
        !log.contains(admin_login.password),
        "the password was shown:\n{log}"
    );
    assert!(!log.contains(wrong), "the wrong password was shown:\n{log}");
    let printed = w.printed();
    let lines = command_lines(printed);
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
    installed.stdout_has("certificate kept");
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
    assert!(may_use(&rt, &ns, "app", &suggested));
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
    let (rt, ns) = namespace_with_app();
    let d = dc();
    let dir = tempfile::tempdir().unwrap();
    let typed = "Typed-Secret-9913";
    // In a shell that survives the interrupt, to ask the terminal afterwards whether it
    // echoes again (a hidden prompt turns echo off). rexpect starts the terminal without
    // echo: turn it on first, as a user's terminal is.
    let mut cmd = wizard_command(dir.path());
    cmd.args(["-n", &ns, "--no-install-webhook", "--account", "nobody"])
        .args(["--server", d.ldaps(), "--ca-file", d.ca()])
        .args(["--user", d.admin().user])
        .env_remove("GMSA_LDAP_PASSWORD");
    let mut w = Wizard::start(in_shell_around(&cmd, "stty echo", "stty -a"), 30_000);
    w.expect("Password of").press(typed);
    w.interrupt();
    let log = &w.log;
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
    r.stderr_has("missing: --server URL (or --domain DOMAIN)");
    // A bind user without $GMSA_LDAP_PASSWORD: the password is named, never asked for.
    let mut cmd = Command::new(bin());
    cmd.arg("--kubeconfig")
        .arg(&cluster().kubeconfig)
        .args(["wizard", "--account", "WebApp01", "--server", d.ldaps()])
        .args(["--user", d.admin().user])
        .env("NO_COLOR", "1")
        .env_remove("GMSA_LDAP_PASSWORD")
        .stdin(std::process::Stdio::null());
    let r = to_run(cmd.output().unwrap());
    assert_eq!(r.code, 2, "{}", r.stderr);
    r.stderr_has("missing: $GMSA_LDAP_PASSWORD");
    assert!(r.stdout.is_empty());
}

#[test]
fn with_yes_it_generates_from_the_directory_and_installs_the_webhook_only_when_told() {
    let (_rt, ns) = namespace_with_app();
    let d = dc();
    let account = unique_account("wy");
    dc().add_gmsa(&account);
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
        to_run(cmd.output().unwrap())
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
    first.stderr_has("--install-webhook installs it");
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
        second.stdout_has(&format!("deployment.apps/{wh} -n {wh_ns} created"));
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
    let (_rt, ns) = namespace_with_app();
    let name = unique("wzp");
    let role = format!("{name}-role");
    let dir = tempfile::tempdir().unwrap();
    let cmd = wizard_for_app(
        dir.path(),
        &ns,
        &["--credspec-name", &name, "--cluster-role-name", &role],
    );
    let mut w = Wizard::start(cmd, 30_000);
    w.expect("Credential spec").expect("paste the JSON");
    w.press("\x1b[B"); // down: from Active Directory to paste
    w.press("\r");
    w.expect("Paste the credential spec JSON");
    let sample = std::fs::read_to_string(example("credspecs/webapp01-domain-joined.json")).unwrap();
    for line in sample.lines() {
        w.type_line(line);
    }
    w.expect("Lint of pasted credential spec");
    w.expect("gMSA webapp01 in contoso.com");
    w.apply_without_yaml();
    w.expect(&format!("{ns}:app may use gmsacredentialspec/{name}"));
    w.attach_nothing();
    let printed = w.printed();
    assert!(
        printed.contains("# save the JSON you pasted as contoso_webapp01.json"),
        "{printed}"
    );
    let line = *command_lines(printed)
        .first()
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

#[test]
fn n_then_enter_is_one_answer_and_the_next_menu_still_waits() {
    let (rt, ns) = namespace_with_app();
    let dir = folder_with_a_credspec();
    let mut cmd = wizard_command(dir.path());
    cmd.args(["-n", &ns]).args([
        "--webhook-name",
        &unique("wzq"),
        "--webhook-namespace",
        &unique("wzqns"),
    ]);
    let mut w = Wizard::start(cmd, 30_000);
    // Regression: a one-key Confirm took `n` and left the Enter to the next menu, which
    // picked its first entry (the webapp01.json found in the folder).
    w.expect("Install the webhook now")
        .expect("[Y/n]")
        .press("n\r");
    w.expect("Credential spec").expect("another file...");
    // The menu waits: down once (to Active Directory) and Enter picks that, not the file.
    w.press("\x1b[B").press("\r");
    w.expect("gMSA account name");
    assert!(
        !w.log.contains("Lint of"),
        "the file was picked:\n{}",
        w.log
    );
    assert!(
        !plain(&w.log).contains("Install the webhook now (at the end, after the preview)? yes"),
        "{}",
        w.log
    );
    w.interrupt();
    assert!(w.log.contains("nothing was written"), "{}", w.log);
    assert_no_role_bindings(&rt, &ns);
}

#[test]
fn ctrl_c_at_a_text_prompt_says_so_on_its_own_line_and_exits_130() {
    let (rt, ns) = namespace_with_app();
    let dir = folder_with_a_credspec();
    let mut cmd = wizard_command(dir.path());
    cmd.args(["-n", &ns, "--no-install-webhook"]);
    let mut w = Wizard::start(in_shell(&cmd, "true"), 30_000);
    w.expect("Credential spec").pick_the_file_found();
    w.expect("Name of the GMSACredentialSpec resource")
        .press("half-typed");
    w.interrupt();
    assert!(w.log.contains("exit=130"), "{:?}", w.log);
    let shown = plain(&w.log);
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
    let (rt, ns) = namespace_with_app();
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
    let mut w = Wizard::start(cmd, 30_000);
    w.pick_the_file_found();
    w.expect("gMSA webapp01 in contoso.com");
    // `App` is not a DNS-1123 name: said at once, and the same question comes back.
    w.answer("Service accounts", "App");
    w.expect("invalid service account name");
    w.answer("Service accounts", "app");
    w.yes("joined to the domain");
    w.expect("These objects will be applied");
    w.no("Show the YAML");
    w.expect("Apply?");
    let preview = plain(&w.log);
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
    w.expect("[Y/n]").press("y\r");
    w.expect(&format!("{ns}:app may use gmsacredentialspec/{name}"));
    w.attach_nothing();
    assert!(
        w.log.contains(&format!("--service-account app -n {ns}")),
        "{}",
        w.log
    );
    assert!(may_use(&rt, &ns, "app", &name));
}

#[test]
fn long_lines_wrap_to_a_narrow_terminal_at_word_boundaries() {
    let (_rt, ns) = namespace_with_app();
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
    let mut w = Wizard::start(in_shell(&cmd, "stty cols 40 rows 60"), 30_000);
    w.expect("[Y/n]").interrupt();
    let shown = plain(&w.log);
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
    let (_rt, ns) = namespace_with_app();
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
    let log = Wizard::start(in_shell(&cmd, "true"), 30_000).finish();
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
    let (rt, ns) = namespace_with_app();
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
    let cmd = wizard_for_app(dir.path(), &ns, &["--credspec-name", &name]);
    let mut w = Wizard::start(cmd, 30_000);
    w.pick_the_file_found();
    w.answer("Name of the ClusterRole", "");
    w.apply_without_yaml();
    w.expect(&format!(
        "Attach gmsacredentialspec/{name} to a workload in namespace {ns}"
    ))
    .expect("[y/N]")
    .press("y\r");
    w.expect("deployment/web");
    w.expect("another (type KIND/NAME)...").press("\r");
    w.expect("Attaching to deployment/web will:");
    w.expect(&format!("configure Deployment web -n {ns}"));
    w.expect("Attach?").expect("[Y/n]");
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
    w.press("y\r").expect(SAME_WITHOUT_QUESTIONS).finish();

    let d = rt.block_on(deployments.get("web")).unwrap();
    let pod = d.spec.unwrap().template.spec.unwrap();
    assert_eq!(credspec_of(&pod), Some(name.as_str()));
    assert_eq!(
        pod.node_selector
            .unwrap_or_default()
            .get("kubernetes.io/os")
            .map(String::as_str),
        Some("windows")
    );
    // The printed attach line, run now, changes nothing.
    let printed = w.printed();
    let line = command_lines(printed)
        .into_iter()
        .find(|l| l.contains(" attach "))
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
    again.stdout_has("unchanged");
    assert!(!again.stdout.contains("configured"), "{}", again.stdout);
}

#[test]
fn with_yes_and_attach_it_attaches_without_asking() {
    use k8s_openapi::api::apps::v1::StatefulSet;
    let (rt, ns) = namespace_with_app();
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
    let yes_attach = [
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
    ];
    let r = gmsa(&yes_attach);
    r.ok();
    r.stdout_has(&format!(
        "attach statefulset/db --credspec-name {name} -n {ns} --bind"
    ));
    let got = rt.block_on(sets.get("db")).unwrap();
    let pod = got.spec.unwrap().template.spec.unwrap();
    assert_eq!(credspec_of(&pod), Some(name.as_str()));
    // Run again: the preview says every object is unchanged, and so does attach.
    let again = gmsa(&yes_attach);
    again.ok();
    again.stderr_has(&format!("unchanged GMSACredentialSpec {name}"));
    again.stdout_has(&format!("statefulset.apps/db -n {ns} unchanged"));
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
    bad.stderr_has("invalid --attach");
}

#[test]
fn a_workload_that_does_not_exist_is_said_at_once_and_another_is_asked_for() {
    let (rt, ns) = namespace_with_app();
    let name = unique("wzw");
    let dir = folder_with_a_credspec();
    let cmd = wizard_for_app(
        dir.path(),
        &ns,
        &["--credspec-name", &name, "--cluster-role-name", &name],
    );
    let mut w = Wizard::start(in_shell(&cmd, "true"), 30_000);
    w.pick_the_file_found();
    w.apply_without_yaml();
    w.expect("Attach gmsacredentialspec").press("y\r");
    // No workload in the namespace: the kind and name are typed, and checked.
    w.expect("no deployment, statefulset or daemonset");
    w.answer("Workload (deployment/NAME", "web");
    w.answer("is not KIND/NAME", "deployment/nope");
    w.expect("deployment/nope does not exist");
    w.expect("Choose another workload?").press("y\r");
    w.expect("Workload (deployment/NAME").interrupt();
    let log = &w.log;
    assert!(log.contains("exit=130"), "{log}");
    // The credential spec was added before: Ctrl-C says that it stays.
    assert!(
        plain(log).lines().any(|l| l.trim_end()
            == "interrupted; what was applied above stays; nothing more was written"),
        "{log}"
    );
    assert!(may_use(&rt, &ns, "app", &name));
}
