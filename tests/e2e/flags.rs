//! The first hour's traps (issue 13, items 4-6) against the real API server and Samba DC:
//! credential spec files read once (`-`, `/dev/stdin`, `<(...)`), `remove-credspec` finding
//! its roles by annotation, `check-access` on a missing spec and its grant hint, kubectl's
//! `--request-timeout` and `KUBECONFIG` forms, `--dry-run` values, `--password-stdin`, and
//! the exit codes of bad directory input.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use gmsa_tests::dc::{dc, dc_args, gmsa_dc, strs, unique_account};
use gmsa_tests::proxy::{kubeconfig_via, Proxy};
use gmsa_tests::*;
use k8s_openapi::api::rbac::v1::{ClusterRole, RoleBinding};
use kube::api::Api;

const DOMAIN_JOINED: &str = "credspecs/webapp01-domain-joined.json";

async fn exists_spec(name: &str) -> bool {
    credspec_api(&admin().await)
        .get_opt(name)
        .await
        .unwrap()
        .is_some()
}

async fn exists_role(name: &str) -> bool {
    Api::<ClusterRole>::all(admin().await)
        .get_opt(name)
        .await
        .unwrap()
        .is_some()
}

/// Run `kubectl-gmsa ARGS` with `env` and bytes on standard input; no cluster flag added.
fn run_with(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Run {
    let mut child = Command::new(bin())
        .args(args)
        .env_remove("GMSA_LDAP_PASSWORD")
        .env("GMSA_DNS_SERVER", "127.0.0.1")
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kubectl-gmsa");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let o = child.wait_with_output().unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Run a bash command line (for pipes and process substitution) with `$GMSA` the binary.
fn bash(script: &str, env: &[(&str, &str)]) -> Run {
    let o = Command::new("bash")
        .args(["-c", script])
        .env("GMSA", bin())
        .env("KUBECONFIG", &cluster().kubeconfig)
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run bash");
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

// ---------------------------------------------------------------- item 4: read once

#[tokio::test]
async fn a_credspec_file_from_stdin_dev_stdin_or_a_pipe_is_read_once() {
    install_crd().await;
    let ns = namespace(&["app"]).await;
    let file = example(DOMAIN_JOINED);
    let text = std::fs::read(&file).unwrap();
    let kubeconfig = cluster().kubeconfig.to_str().unwrap().to_owned();

    // `-` and /dev/stdin: standard input, a pipe.
    for path in ["-", "/dev/stdin"] {
        let spec = unique("stdin");
        let r = run_with(
            &[
                "--kubeconfig",
                &kubeconfig,
                "add-credspec",
                "--credspec-file",
                path,
                "--credspec-name",
                &spec,
                "--service-account",
                "app",
                "-n",
                &ns,
            ],
            &[],
            &text,
        );
        r.ok();
        assert!(exists_spec(&spec).await, "{path}: {}", r.stdout);
        assert!(exists_role(&format!("{spec}-gmsa-user")).await, "{path}");
    }

    // A shell's <(...): a pipe with a path, opened once.
    let spec = unique("procsub");
    let r = bash(
        &format!(
            "\"$GMSA\" add-credspec --credspec-file <(cat '{}') --credspec-name {spec} -n {ns}",
            file.display()
        ),
        &[],
    );
    r.ok();
    assert!(exists_spec(&spec).await, "{}", r.stderr);

    // lint and convert take the same forms.
    let r = bash(&format!("\"$GMSA\" lint <(cat '{}')", file.display()), &[]);
    r.ok();
    let r = run_with(&["convert", "-", "--credspec-name", "piped"], &[], &text);
    r.ok();
    r.stdout_has("name: piped");
    let r = run_with(&["lint", "-"], &[], &text);
    r.ok();
    r.stdout_has("standard input: ok");

    // Nothing on standard input: a clear error, nothing written.
    let spec = unique("empty");
    let r = run_with(
        &[
            "--kubeconfig",
            &kubeconfig,
            "add-credspec",
            "--credspec-file",
            "-",
            "--credspec-name",
            &spec,
            "-n",
            &ns,
        ],
        &[],
        b"",
    );
    assert_eq!(r.code, 2, "{r:?}");
    r.stderr_has("credential spec file standard input is empty");
    assert!(!exists_spec(&spec).await);
}

#[tokio::test]
async fn new_credspec_piped_into_add_credspec() {
    install_crd().await;
    let d = dc();
    let ns = namespace(&[]).await;
    let account = unique_account("pipe");
    // The gMSA, made with our own create-account (the DC is shared: a unique name).
    let mut a = vec![
        "create-account",
        &account,
        "--allowed-principal",
        "WebHosts",
    ];
    let flags = d.flags();
    a.extend(flags.iter().map(String::as_str));
    gmsa_dc(&a, Some(d.admin())).ok();
    let spec = unique("piped");
    let r = bash(
        &format!(
            "set -o pipefail; \"$GMSA\" new-credspec --account {account} --server {} --ca-file {} --user {} \
             | \"$GMSA\" add-credspec --credspec-file - --credspec-name {spec} -n {ns}",
            d.ldaps(),
            d.ca(),
            d.admin().user
        ),
        &[
            ("GMSA_LDAP_PASSWORD", d.admin().password),
            ("GMSA_DNS_SERVER", d.var("GMSA_TEST_DC_DNS_SERVER")),
        ],
    );
    r.ok();
    let stored = credspec_api(&admin().await).get(&spec).await.unwrap();
    let stored = serde_json::to_value(stored).unwrap();
    assert_eq!(
        stored["credspec"]["DomainJoinConfig"]["MachineAccountName"], account,
        "{stored}"
    );
}

// ---------------------------------------------------------------- item 5: remove by annotation

#[tokio::test]
async fn remove_credspec_finds_its_roles_by_annotation_and_spares_other_specs() {
    install_crd().await;
    let ns = namespace(&["app", "web"]).await;
    let file = example(DOMAIN_JOINED);
    let file = file.to_str().unwrap();
    let (spec_a, spec_b) = (unique("spa"), unique("spb"));
    let role_a = unique("role-a");
    // A's role has a name of its own choosing; B took the name A's default would have.
    let impostor = format!("{spec_a}-gmsa-user");
    for (spec, role, sa) in [(&spec_a, &role_a, "app"), (&spec_b, &impostor, "web")] {
        gmsa(&[
            "add-credspec",
            "--credspec-file",
            file,
            "--credspec-name",
            spec,
            "--cluster-role-name",
            role,
            "--service-account",
            sa,
            "-n",
            &ns,
        ])
        .ok();
    }
    let bindings: Api<RoleBinding> = Api::namespaced(admin().await, &ns);
    let names = |list: Vec<RoleBinding>| -> Vec<String> {
        let mut v: Vec<String> = list.into_iter().filter_map(|b| b.metadata.name).collect();
        v.sort();
        v
    };
    assert_eq!(
        names(bindings.list(&Default::default()).await.unwrap().items).len(),
        2
    );

    // A server-side dry run says the same and removes nothing.
    let dry = gmsa(&[
        "remove-credspec",
        "--credspec-name",
        &spec_a,
        "--service-account",
        "app",
        "-n",
        &ns,
        "--dry-run=server",
    ]);
    dry.ok();
    assert!(exists_role(&role_a).await);

    // Without --cluster-role-name: A's role and binding are found and removed (the name as
    // an argument, as kubectl takes it).
    let r = gmsa(&[
        "remove-credspec",
        &spec_a,
        "--service-account",
        "app",
        "-n",
        &ns,
    ]);
    r.ok();
    for line in [
        format!("clusterrole.rbac.authorization.k8s.io/{role_a} deleted"),
        format!("rolebinding.rbac.authorization.k8s.io/{role_a}-app -n {ns} deleted"),
        format!("gmsacredentialspec.windows.k8s.io/{spec_a} deleted"),
    ] {
        assert!(r.stdout.contains(&line), "says {line}: {}", r.stdout);
        dry.stdout_has(&line.replace("deleted", "deleted (server dry run)"));
    }
    r.stdout_has(&format!(
            "clusterrole.rbac.authorization.k8s.io/{impostor} skipped: made for credential spec {spec_b}, not {spec_a}"
        ));
    assert!(!exists_spec(&spec_a).await);
    assert!(!exists_role(&role_a).await);
    // B keeps everything: its spec, its role (named like A's default) and its binding.
    assert!(exists_spec(&spec_b).await);
    assert!(exists_role(&impostor).await);
    assert_eq!(
        names(bindings.list(&Default::default()).await.unwrap().items),
        [format!("{impostor}-web")]
    );

    // Naming B's role for A is refused per object, too.
    let r = gmsa(&[
        "remove-credspec",
        "--credspec-name",
        &spec_a,
        "--cluster-role-name",
        &impostor,
        "--service-account",
        "web",
        "-n",
        &ns,
    ]);
    r.ok();
    assert!(!r.stdout.contains("deleted"), "{}", r.stdout);
    assert!(exists_role(&impostor).await);
    assert_eq!(
        names(bindings.list(&Default::default()).await.unwrap().items),
        [format!("{impostor}-web")]
    );
}

// ---------------------------------------------------------------- item 6: check-access

#[tokio::test]
async fn check_access_on_a_missing_spec_is_not_found_and_a_no_says_how_to_grant() {
    install_crd().await;
    let ns = namespace(&["app", "other"]).await;
    let missing = unique("nosuch");
    let r = gmsa(&[
        "check-access",
        &missing,
        "--service-account",
        "app",
        "-n",
        &ns,
    ]);
    assert_eq!(r.code, 3, "{r:?}");
    r.stderr_has(&format!("gMSA credential spec {missing} does not exist"));
    assert!(!r.stdout.contains("may NOT"), "{}", r.stdout);

    let (spec, role) = (unique("ca"), unique("carole"));
    add_example_credspec(&spec, &role, &ns, &["app"], &[]).ok();
    let other_may_use = [
        "check-access",
        &spec,
        "--service-account",
        "other",
        "-n",
        &ns,
    ];
    let denied = gmsa(&other_may_use);
    assert_eq!(denied.code, 5, "{denied:?}");
    let want =
        format!("kubectl gmsa bind-role --cluster-role-name {role} --service-account {ns}:other");
    denied.stderr_has(&want);
    // The hint's command line does what it says.
    let words: Vec<&str> = want.split(' ').skip(2).collect();
    gmsa(&words).ok();
    gmsa(&other_may_use).ok();
}

// ---------------------------------------------------------------- item 6: kubectl's flags

#[tokio::test]
async fn request_timeout_takes_kubectl_durations() {
    install_crd().await;
    let ns = namespace(&["app"]).await;
    let spec = unique("rt");
    gmsa(&[
        "add-credspec",
        "--credspec-file",
        example(DOMAIN_JOINED).to_str().unwrap(),
        "--credspec-name",
        &spec,
        "-n",
        &ns,
    ])
    .ok();
    for t in ["0", "10", "5s", "1m", "2m30s", "1h"] {
        let r = gmsa(&["check-access", &spec, "--request-timeout", t, "-n", &ns]);
        assert_eq!(r.code, 0, "--request-timeout {t}: {r:?}");
        // Before the command too, as kubectl takes it.
        let r = gmsa(&["--request-timeout", t, "check-access", &spec, "-n", &ns]);
        assert_eq!(r.code, 0, "--request-timeout {t} first: {r:?}");
    }
    for bad in ["5x", "1.5s", "m"] {
        let r = gmsa(&["check-access", &spec, "--request-timeout", bad, "-n", &ns]);
        assert_eq!(r.code, 2, "{bad}: {r:?}");
        r.stderr_has("is not a duration");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_timeout_with_units_gives_up_on_a_silent_server() {
    let upstream: std::net::SocketAddr = cluster()
        .server()
        .trim_start_matches("https://")
        .parse()
        .unwrap();
    let proxy = Proxy::start(upstream).await;
    proxy.freeze();
    let dir = tempfile::tempdir().unwrap();
    let via = kubeconfig_via(proxy.addr, dir.path());
    let via = via.to_str().unwrap().to_owned();
    let (run, took) = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let r = gmsa_plain(&[
            "--kubeconfig",
            &via,
            "check-access",
            "anything",
            "--request-timeout",
            "2s",
        ]);
        (r, started.elapsed())
    })
    .await
    .unwrap();
    proxy.restart();
    assert_eq!(run.code, 7, "{run:?}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert!(took >= Duration::from_secs(2), "took {took:?}");
}

#[tokio::test]
async fn a_kubeconfig_list_skips_missing_files_as_kubectl_does() {
    install_crd().await;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let real = cluster().kubeconfig.to_str().unwrap().to_owned();
    let list = format!("{}:{real}", missing.display());
    let r = run_with(&["get"], &[("KUBECONFIG", &list)], b"");
    assert_eq!(r.code, 0, "{r:?}");
    // The context names resolve through the merged list too.
    let r = run_with(
        &["--context", "admin", "get"],
        &[("KUBECONFIG", &list)],
        b"",
    );
    assert_eq!(r.code, 0, "{r:?}");
    // None exists: exit 8, naming them.
    let other = dir.path().join("also-missing");
    let list = format!("{}:{}", missing.display(), other.display());
    let r = run_with(&["get"], &[("KUBECONFIG", &list)], b"");
    assert_eq!(r.code, 8, "{r:?}");
    for p in [&missing, &other] {
        assert!(
            r.stderr.contains(&p.display().to_string()),
            "names {}: {}",
            p.display(),
            r.stderr
        );
    }
}

// ---------------------------------------------------------------- item 6: directory flags

#[test]
fn create_account_takes_kubectls_dry_run_values() {
    let d = dc();
    let name = unique_account("dv");
    let create = |dry_run: &str| {
        let a = dc_args(
            &["create-account", &name, "--allowed-principal", "WebHosts"],
            &[dry_run],
        );
        gmsa_dc(&strs(&a), Some(d.admin()))
    };
    for value in ["--dry-run=client", "--dry-run"] {
        let r = create(value);
        r.ok();
        r.stdout_has("# dry run: nothing was written");
    }
    let r = create("--dry-run=server");
    assert_eq!(r.code, 2, "{r:?}");
    r.stderr_has("--dry-run=server is not available for create-account");
    r.stderr_has("hint:");
    let r = create("--dry-run=maybe");
    assert_eq!(r.code, 2, "{r:?}");
    r.stderr_has("[possible values: none, client, server]");
    assert_eq!(d.dn_of(&format!("{name}$")), None, "nothing was written");
}

#[test]
fn password_stdin_on_every_directory_command() {
    let d = dc();
    let name = unique_account("ps");
    let password = format!("{}\n", d.admin().password);
    let with_user = |cmd: &[&str]| dc_args(cmd, &["--user", d.admin().user, "--password-stdin"]);
    let dns = [("GMSA_DNS_SERVER", d.var("GMSA_TEST_DC_DNS_SERVER"))];
    let a = with_user(&["create-account", &name, "--allowed-principal", "WebHosts"]);
    run_with(&strs(&a), &dns, password.as_bytes()).ok();
    let a = with_user(&["new-credspec", "--account", &name]);
    let r = run_with(&strs(&a), &dns, password.as_bytes());
    r.ok();
    r.stdout_has(&name);
    let a = with_user(&["check-account", &name, "-o", "json"]);
    let r = run_with(&strs(&a), &dns, password.as_bytes());
    assert!(r.stdout.contains("\"checks\""), "{r:?}");
    assert!(!r.stderr.contains(d.admin().password), "{}", r.stderr);
    let help = gmsa_plain(&["doctor", "--help"]);
    help.stdout_has("--password-stdin");

    // A wrong password on standard input is refused like any wrong password.
    let a = with_user(&["new-credspec", "--account", &name]);
    let r = run_with(&strs(&a), &dns, b"not-the-password\n");
    assert_eq!(r.code, 9, "{r:?}");
    // Nothing on standard input; and --password-stdin without --user.
    let r = run_with(&strs(&a), &dns, b"");
    assert_eq!(r.code, 2, "{r:?}");
    r.stderr_has("no password on standard input");
    let a = dc_args(
        &["new-credspec", "--account", &name, "--password-stdin"],
        &[],
    );
    let r = run_with(&strs(&a), &dns, password.as_bytes());
    assert_eq!(r.code, 2, "{r:?}");
    r.stderr_has("--user");
}

#[test]
fn bad_directory_input_is_exit_2_with_the_fix() {
    let d = dc();
    let dir = tempfile::tempdir().unwrap();
    let no_pem = dir.path().join("no-pem.crt");
    std::fs::write(&no_pem, "this is not a certificate\n").unwrap();
    // (what, args, exit code, text)
    let cases: Vec<(&str, Vec<String>, i32, String)> = vec![
        (
            "no scheme",
            vec![
                "new-credspec".into(),
                "--account".into(),
                "x".into(),
                "--server".into(),
                "127.0.0.1".into(),
            ],
            2,
            "--server needs a scheme: ldaps://127.0.0.1".into(),
        ),
        (
            "a CA file without PEM",
            vec![
                "new-credspec".into(),
                "--account".into(),
                "x".into(),
                "--server".into(),
                d.ldaps().into(),
                "--ca-file".into(),
                no_pem.to_str().unwrap().into(),
            ],
            2,
            "holds no PEM certificate".into(),
        ),
    ];
    for (what, a, code, text) in cases {
        let r = gmsa_dc(&strs(&a), Some(d.admin()));
        assert_eq!(r.code, code, "{what}: {r:?}");
        assert!(r.stderr.contains(&text), "{what}: {}", r.stderr);
        assert!(r.stderr.contains("hint:"), "{what}: {}", r.stderr);
    }
    // A bad --server is said before the password is looked for.
    let r = gmsa_dc(
        &[
            "new-credspec",
            "--account",
            "x",
            "--server",
            "127.0.0.1",
            "--user",
            "a@gmsa.test",
        ],
        None,
    );
    assert_eq!(r.code, 2, "{r:?}");
    r.stderr_has("--server needs a scheme: ldaps://127.0.0.1");
}

#[test]
fn a_bare_user_name_is_told_to_use_user_at_domain() {
    let d = dc();
    // Samba refuses a bare sAMAccountName in a simple bind, even with the right password
    // (Windows DCs may accept it): checked here, with the hint that says how to write it.
    let a = dc_args(
        &["check-account", "nosuchacct2"],
        &["--user", "Administrator"],
    );
    let r = run_with(
        &strs(&a),
        &[("GMSA_LDAP_PASSWORD", d.admin().password)],
        b"",
    );
    assert_eq!(r.code, 9, "{r:?}");
    r.stderr_has("use user@domain or DOMAIN\\user");
    r.stderr_has(&format!(
        "--user Administrator@{}",
        d.var("GMSA_TEST_DC_DNS_DOMAIN")
    ));
    assert!(!r.stderr.contains(d.admin().password));
}
