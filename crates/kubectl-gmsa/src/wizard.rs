//! `kubectl gmsa wizard`: asks, step by step, for what `add-credspec` (and `create-secret`)
//! need, showing what it finds on the way, then runs those same requests and prints the
//! equivalent non-interactive command line. Prompts go to stderr (dialoguer), results to
//! stdout. Every question has a flag; with `--yes`, or without a terminal, it never asks:
//! it takes the defaults and fails with the list of flags it is missing.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, Password, Select};
use gmsa::cluster::access::{may_i, Permission};
use gmsa::cluster::{self, DryRun};
use gmsa::credspec::{self, CcgPlugin, Severity};
use gmsa::ops::{self, AddCredspecRequest, CredspecSource, HostAccountRequest};
use gmsa::{Error, ErrorKind};

use crate::cli::{CcgPluginArg, ClusterArgs};
use crate::output;

#[derive(Debug, Args, Clone, Default)]
pub struct WizardArgs {
    /// The credential spec JSON file (skips that question).
    #[arg(long, value_name = "PATH")]
    pub credspec_file: Option<PathBuf>,
    /// Name of the GMSACredentialSpec resource (default: from the gMSA name).
    #[arg(long, value_name = "NAME")]
    pub credspec_name: Option<String>,
    /// Name of the ClusterRole (default: <credspec-name>-gmsa-user).
    #[arg(long, value_name = "NAME")]
    pub cluster_role_name: Option<String>,
    /// Service accounts that may use it: NAME (in -n) or NAMESPACE:NAME. Repeatable.
    #[arg(long = "service-account", value_name = "NAME")]
    pub service_accounts: Vec<String>,
    /// The Windows nodes are not domain joined: the Secret with the domain user.
    #[arg(long, value_name = "NAME")]
    pub secret_name: Option<String>,
    /// Namespace of --secret-name (default: default).
    #[arg(long, value_name = "NAMESPACE")]
    pub secret_namespace: Option<String>,
    /// The ccg.exe plug-in of non-domain-joined nodes (default: rancher).
    #[arg(long, value_enum)]
    pub ccg_plugin: Option<CcgPluginArg>,
    /// The plug-in's input, for plug-ins that need one (Azure Key Vault, AWS).
    #[arg(long, value_name = "TEXT")]
    pub plugin_input: Option<String>,
    /// Replace existing objects that differ.
    #[arg(long)]
    pub overwrite: bool,
    /// Ask nothing: take every default, and fail if a required answer has no flag.
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// Everything the wizard decided: the request it runs, and how it was asked for.
struct Plan {
    add: AddCredspecRequest,
    secret: Option<ops::CreateSecretRequest>,
}

/// A prompt ended without an answer (Ctrl-C in raw mode arrives here): give the terminal
/// its cursor back and stop before anything is written.
fn interrupted(e: dialoguer::Error) -> Error {
    let _ = console::Term::stderr().show_cursor();
    let dialoguer::Error::IO(io) = &e;
    let why = if io.kind() == std::io::ErrorKind::Interrupted {
        "interrupted".to_owned()
    } else {
        io.to_string()
    };
    Error::new(
        ErrorKind::InvalidInput,
        format!("the wizard stopped ({why}); nothing was written"),
    )
}

fn say(msg: &str) {
    eprintln!("{msg}");
}

/// The usual places of credential spec files: Docker's CredentialSpecs folder on Windows,
/// and the current folder.
fn usual_files() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(".")];
    if cfg!(windows) {
        if let Some(pd) = std::env::var_os("ProgramData") {
            dirs.push(Path::new(&pd).join("docker").join("CredentialSpecs"));
        }
    }
    let mut found = vec![];
    for d in dirs {
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("json"))
                    && std::fs::read_to_string(&p).is_ok_and(|t| t.contains("DomainJoinConfig"))
                {
                    found.push(p);
                }
            }
        }
    }
    found.sort();
    found
}

pub async fn run(out: &mut dyn Write, c: &ClusterArgs, a: WizardArgs) -> Result<ExitCode, Error> {
    let interactive = !a.yes && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if interactive {
        // Ctrl-C at a prompt: give the terminal its cursor back; nothing has been written.
        let _ = ctrlc::set_handler(|| {
            let _ = console::Term::stderr().show_cursor();
            eprintln!("\ninterrupted; nothing was written");
            std::process::exit(130);
        });
    }
    if !interactive && a.credspec_file.is_none() {
        return Err(Error::invalid("the wizard has no terminal to ask on (or --yes was given) and is missing: --credspec-file")
            .with_hint("pass every answer as a flag (see `kubectl gmsa wizard --help`), or run it in a terminal"));
    }
    // Colours only on a terminal, never with NO_COLOR.
    let plain = dialoguer::theme::SimpleTheme;
    let colourful = ColorfulTheme::default();
    let theme: &dyn dialoguer::theme::Theme = if output::colour(std::io::stderr().is_terminal()) {
        &colourful
    } else {
        &plain
    };
    let target = c.target();

    // 1. The cluster, and whether we may create what we need.
    let cluster = cluster::connect(&target).await?;
    say(&format!(
        "Cluster: {} (context {})",
        cluster.server,
        c.context.as_deref().unwrap_or("current")
    ));
    let namespace = match &c.namespace {
        Some(ns) => ns.clone(),
        None if interactive => Input::with_theme(theme)
            .with_prompt("Namespace of the workload")
            .default(cluster.default_namespace.clone())
            .interact_text()
            .map_err(interrupted)?,
        None => cluster.default_namespace.clone(),
    };
    let checks = [
        Permission::new("create", credspec::GROUP, credspec::PLURAL, None, None),
        Permission::new(
            "create",
            "rbac.authorization.k8s.io",
            "clusterroles",
            None,
            None,
        ),
        Permission::new(
            "create",
            "rbac.authorization.k8s.io",
            "rolebindings",
            Some(&namespace),
            None,
        ),
    ];
    let mut all_allowed = true;
    for p in &checks {
        let ok = may_i(&cluster.client, p).await?;
        all_allowed &= ok;
        say(&format!(
            "  {} may {}",
            if ok { "✓" } else { "✗" },
            p.describe()
        ));
    }
    if !all_allowed {
        say("  (some writes will be refused; the wizard goes on so you can see the plan)");
    }

    // 2. The CRD the webhook installs.
    let crd_served = crd_served(&cluster).await;
    say(&format!(
        "GMSACredentialSpec CRD: {}",
        if crd_served {
            "installed"
        } else {
            "missing (run `kubectl gmsa install-webhook`)"
        }
    ));

    // 3. Where the credential spec comes from.
    let file = match &a.credspec_file {
        Some(f) => f.clone(),
        None if interactive => {
            let found = usual_files();
            let mut choices: Vec<String> = found
                .iter()
                .map(|p| format!("file {}", p.display()))
                .collect();
            choices.push("another file...".into());
            let pick = Select::with_theme(theme)
                .with_prompt("Credential spec")
                .items(&choices)
                .default(0)
                .interact()
                .map_err(interrupted)?;
            if pick < found.len() {
                found[pick].clone()
            } else {
                let p: String = Input::with_theme(theme)
                    .with_prompt("Path of the credential spec JSON file")
                    .interact_text()
                    .map_err(interrupted)?;
                PathBuf::from(p)
            }
        }
        None => unreachable!("checked above"),
    };
    let checked = credspec::check_file(&file)?;
    if checked.findings.is_empty() {
        say(&format!("Lint of {}: no findings", file.display()));
    } else {
        say(&format!("Lint of {}:", file.display()));
        output::findings(
            &mut std::io::stderr(),
            &file.display().to_string(),
            &checked.findings,
            std::io::stderr().is_terminal(),
        )
        .ok();
    }
    let (spec, _) = credspec::into_spec(checked, &file.display().to_string())?;
    let djc = &spec.domain_join_config;
    say(&format!(
        "  gMSA {} in {} ({}), domain SID {}",
        djc.machine_account_name, djc.dns_name, djc.net_bios_name, djc.sid
    ));

    // 4. Names.
    let suggested = gmsa::names::resource_name_from_account(spec.account());
    let credspec_name = match &a.credspec_name {
        Some(n) => n.clone(),
        None if interactive => Input::with_theme(theme)
            .with_prompt("Name of the GMSACredentialSpec resource")
            .default(suggested)
            .validate_with(|s: &String| gmsa::names::check_subdomain(s))
            .interact_text()
            .map_err(interrupted)?,
        None => suggested,
    };
    let cluster_role_name = match &a.cluster_role_name {
        Some(n) => n.clone(),
        None if interactive => Input::with_theme(theme)
            .with_prompt("Name of the ClusterRole that may use it")
            .default(format!("{credspec_name}-gmsa-user"))
            .interact_text()
            .map_err(interrupted)?,
        None => format!("{credspec_name}-gmsa-user"),
    };

    // 5. Who may use it.
    let service_accounts = if !a.service_accounts.is_empty() {
        a.service_accounts.clone()
    } else if interactive {
        let answer: String = Input::with_theme(theme)
            .with_prompt(format!("Service accounts that may use it (NAME in {namespace}, or NAMESPACE:NAME; comma separated)"))
            .default("default".into())
            .interact_text()
            .map_err(interrupted)?;
        answer
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    } else {
        vec!["default".into()]
    };

    // 6. Domain-joined nodes, or a ccg.exe plug-in and a domain user.
    let mut plan = Plan {
        add: AddCredspecRequest {
            target: target.clone(),
            source: CredspecSource {
                credspec_file: Some(file.clone()),
                credspec: None,
            },
            credspec_name: Some(credspec_name.clone()),
            cluster_role_name: Some(cluster_role_name.clone()),
            service_accounts,
            namespace: Some(namespace.clone()),
            host_account: None,
            overwrite: a.overwrite,
            dry_run: DryRun::None,
        },
        secret: None,
    };
    let domain_joined = if a.secret_name.is_some() {
        false
    } else if interactive && spec.active_directory_config.host_account_config.is_none() {
        Confirm::with_theme(theme)
            .with_prompt("Are the Windows nodes joined to the domain?")
            .default(true)
            .interact()
            .map_err(interrupted)?
    } else {
        true
    };
    if !domain_joined {
        let plugin: CcgPlugin = match a.ccg_plugin {
            Some(p) => p.into(),
            None if interactive => {
                let names = [
                    "rancher (reads a Kubernetes secret)",
                    "azure-key-vault",
                    "aws",
                ];
                let i = Select::with_theme(theme)
                    .with_prompt("ccg.exe plug-in on the nodes")
                    .items(names)
                    .default(0)
                    .interact()
                    .map_err(interrupted)?;
                [CcgPlugin::Rancher, CcgPlugin::AzureKeyVault, CcgPlugin::Aws][i]
            }
            None => CcgPlugin::Rancher,
        };
        let secret_name = match &a.secret_name {
            Some(s) => s.clone(),
            None => Input::with_theme(theme)
                .with_prompt("Name of the Secret with the domain user")
                .default("gmsa-domain-user".into())
                .interact_text()
                .map_err(interrupted)?,
        };
        let secret_namespace = a
            .secret_namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let plugin_input = match (&a.plugin_input, plugin) {
            (Some(i), _) => Some(i.clone()),
            (None, CcgPlugin::Rancher) => None,
            (None, _) if interactive => Some(
                Input::with_theme(theme)
                    .with_prompt("Plug-in input")
                    .interact_text()
                    .map_err(interrupted)?,
            ),
            (None, _) => {
                return Err(Error::invalid(
                    "the wizard is missing: --plugin-input (this ccg plug-in needs one)",
                ))
            }
        };
        plan.add.host_account = Some(HostAccountRequest {
            secret_name: secret_name.clone(),
            secret_namespace: Some(secret_namespace.clone()),
            ccg_plugin: Some(plugin),
            plugin_guid: None,
            plugin_input,
        });
        if plugin == CcgPlugin::Rancher && interactive {
            let create = Confirm::with_theme(theme)
                .with_prompt(format!(
                    "Create the Secret {secret_namespace}/{secret_name} with the domain user now?"
                ))
                .default(true)
                .interact()
                .map_err(interrupted)?;
            if create {
                let domain: String = Input::with_theme(theme)
                    .with_prompt("Domain")
                    .default(djc.dns_name.clone())
                    .interact_text()
                    .map_err(interrupted)?;
                let username: String = Input::with_theme(theme)
                    .with_prompt("Domain user allowed to read the gMSA password")
                    .interact_text()
                    .map_err(interrupted)?;
                let password = Password::with_theme(theme)
                    .with_prompt("Its password")
                    .interact()
                    .map_err(interrupted)?;
                plan.secret = Some(ops::CreateSecretRequest {
                    target: target.clone(),
                    secret_name,
                    namespace: Some(secret_namespace),
                    domain,
                    username,
                    password,
                    overwrite: a.overwrite,
                    dry_run: DryRun::None,
                });
            }
        }
    }

    // 7. Preview and confirm.
    let preview = ops::add_credspec(
        &AddCredspecRequest {
            dry_run: DryRun::Client,
            ..plan.add.clone()
        },
        &gmsa::progress::Silent,
    )
    .await?;
    say("\nThese objects will be applied:");
    output::objects(
        &mut std::io::stderr(),
        output::outcome_objects(&preview),
        crate::cli::ObjectFormat::Yaml,
    )
    .ok();
    if let Some(s) = &plan.secret {
        say(&format!(
            "and Secret {}/{} (domain, username, password: not shown)",
            s.namespace.as_deref().unwrap_or("default"),
            s.secret_name
        ));
    }
    if interactive {
        let go = Confirm::with_theme(theme)
            .with_prompt("Apply?")
            .default(true)
            .interact()
            .map_err(interrupted)?;
        if !go {
            say("Nothing was written.");
            return Ok(ExitCode::SUCCESS);
        }
    }

    // 8. Apply, verify, and tell the user what to put in the pod.
    let spinner = crate::progress::Spinner::new();
    if let Some(s) = &plan.secret {
        let o = ops::create_secret(s, &spinner).await;
        spinner.finish();
        output::summary(out, &o?).ok();
    }
    let o = ops::add_credspec(&plan.add, &spinner).await;
    spinner.finish();
    let o = o?;
    output::summary(out, &o).ok();
    let access = ops::check_access(&ops::CheckAccessRequest {
        target: target.clone(),
        credspec_name: credspec_name.clone(),
        service_accounts: plan.add.service_accounts.clone(),
        namespace: Some(namespace.clone()),
    })
    .await?;
    for ans in &access.answers {
        writeln!(
            out,
            "{} {} use gmsacredentialspec/{credspec_name}",
            ans.service_account,
            if ans.allowed { "may" } else { "may NOT" }
        )
        .ok();
    }
    let first_sa = plan
        .add
        .service_accounts
        .first()
        .cloned()
        .unwrap_or_else(|| "default".into());
    let sa_name = first_sa.rsplit(':').next().unwrap_or("default").to_owned();
    writeln!(
        out,
        "\nPods that run as {account} set:\n\n  spec:\n    serviceAccountName: {sa_name}\n    securityContext:\n      windowsOptions:\n        gmsaCredentialSpecName: {credspec_name}\n    # The pods must resolve {dns}: if cluster DNS cannot, add a dnsConfig whose nameservers are your domain controllers.\n\nInside a container, check the domain with:\n  nltest /sc_verify:{dns}\n  klist get krbtgt\n",
        account = djc.machine_account_name,
        dns = djc.dns_name,
    )
    .ok();
    writeln!(
        out,
        "The same without questions:\n  {}",
        equivalent_command(c, &plan)
    )
    .ok();
    let warnings = o
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    if warnings > 0 {
        say(&format!("({warnings} lint warning(s) above)"));
    }
    Ok(if access.answers.iter().all(|a| a.allowed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(ErrorKind::Forbidden.exit_code() as u8)
    })
}

async fn crd_served(cluster: &gmsa::cluster::Cluster) -> bool {
    cluster
        .client
        .request_text(http_get(&format!(
            "/apis/{}/{}",
            credspec::GROUP,
            credspec::VERSION
        )))
        .await
        .is_ok()
}

fn http_get(path: &str) -> http::Request<Vec<u8>> {
    http::Request::get(path)
        .body(vec![])
        .expect("a valid request")
}

/// Quote a word for a POSIX shell when it needs it.
fn sh(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The non-interactive command lines that do what the wizard did.
fn equivalent_command(c: &ClusterArgs, plan: &Plan) -> String {
    let mut global = vec![];
    if let Some(k) = &c.kubeconfig {
        global.push(format!("--kubeconfig {}", sh(&k.display().to_string())));
    }
    if let Some(ctx) = &c.context {
        global.push(format!("--context {}", sh(ctx)));
    }
    let g = if global.is_empty() {
        String::new()
    } else {
        format!("{} ", global.join(" "))
    };
    let mut lines = vec![];
    if let Some(s) = &plan.secret {
        lines.push(format!(
            "kubectl gmsa {g}create-secret {} -n {} --domain {} --username {} --password-stdin",
            sh(&s.secret_name),
            sh(s.namespace.as_deref().unwrap_or("default")),
            sh(&s.domain),
            sh(&s.username)
        ));
    }
    let a = &plan.add;
    let mut cmd = format!("kubectl gmsa {g}add-credspec");
    if let Some(f) = &a.source.credspec_file {
        cmd.push_str(&format!(
            " --credspec-file {}",
            sh(&f.display().to_string())
        ));
    }
    if let Some(n) = &a.credspec_name {
        cmd.push_str(&format!(" --credspec-name {}", sh(n)));
    }
    if let Some(n) = &a.cluster_role_name {
        cmd.push_str(&format!(" --cluster-role-name {}", sh(n)));
    }
    for sa in &a.service_accounts {
        cmd.push_str(&format!(" --service-account {}", sh(sa)));
    }
    if let Some(ns) = &a.namespace {
        cmd.push_str(&format!(" -n {}", sh(ns)));
    }
    if let Some(h) = &a.host_account {
        cmd.push_str(&format!(" --secret-name {}", sh(&h.secret_name)));
        if let Some(ns) = &h.secret_namespace {
            cmd.push_str(&format!(" --secret-namespace {}", sh(ns)));
        }
        if let Some(p) = h.ccg_plugin {
            cmd.push_str(&format!(" --ccg-plugin {}", p.name()));
        }
        if let Some(i) = &h.plugin_input {
            cmd.push_str(&format!(" --plugin-input {}", sh(i)));
        }
    }
    if a.overwrite {
        cmd.push_str(" --overwrite");
    }
    lines.push(cmd);
    lines.join("\n  ")
}
