//! The wizard in a real pseudo-terminal: answered prompt by prompt, it must leave the
//! cluster exactly as the equivalent non-interactive command (which it prints) leaves it;
//! Ctrl-C at a prompt writes nothing and gives the terminal its cursor back.

use std::process::Command;

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
    let mut s = spawn_command(wizard_command(dir.path()), Some(30_000)).unwrap();
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
    let bindings: kube::Api<k8s_openapi::api::rbac::v1::RoleBinding> =
        kube::Api::namespaced(rt.block_on(admin()), &ns);
    assert!(rt
        .block_on(bindings.list(&Default::default()))
        .unwrap()
        .items
        .is_empty());
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
