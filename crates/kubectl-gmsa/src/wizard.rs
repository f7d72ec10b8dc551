//! `kubectl gmsa wizard`: asks, step by step, for what `install-webhook`, `new-credspec`,
//! `add-credspec` (and `create-secret`) need, showing what it finds on the way, then runs
//! those same requests and prints the equivalent non-interactive command lines. Prompts go
//! to stderr (dialoguer), results to stdout. Every question has a flag; with `--yes`, or
//! without a terminal, it never asks: it takes the defaults and fails with the list of flags
//! it is missing. Nothing is written before the final "Apply?".

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};
use dialoguer::{Confirm, Input, Password, Select};
use gmsa::cluster::access::{may_i, Permission};
use gmsa::cluster::webhook::{FailurePolicy, DEFAULT_NAME, DEFAULT_NAMESPACE};
use gmsa::cluster::{self, DryRun};
use gmsa::credspec::{self, CcgPlugin, CredentialSpec, Finding, Severity};
use gmsa::directory::{DirectoryTarget, PASSWORD_ENV};
use gmsa::ops::{
    self, AddCredspecRequest, ApplyOutcome, CredspecSource, HostAccountRequest,
    InstallWebhookRequest, NewCredspecRequest,
};
use gmsa::{Error, ErrorKind};

use crate::args::{CcgPluginArg, ClusterArgs, DirectoryArgs, FailurePolicyArg, ObjectFormat};
use crate::output;
use crate::progress::with_progress;

#[derive(Debug, Args, Clone, Default)]
pub struct WizardArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The credential spec JSON file (skips that question).
    #[arg(long, value_name = "PATH", conflicts_with = "account")]
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
    /// Generate the credential spec from Active Directory: the gMSA (as new-credspec
    /// --account). With --server (or --domain), --ca-file and --user below.
    #[arg(
        long,
        value_name = "NAME",
        help_heading = "Credential spec from Active Directory"
    )]
    pub account: Option<String>,
    /// Another gMSA the container may use: NAME or NAME@DOMAIN. Repeatable.
    #[arg(
        long = "additional-account",
        value_name = "NAME[@DOMAIN]",
        requires = "account",
        help_heading = "Credential spec from Active Directory"
    )]
    pub additional_accounts: Vec<String>,
    #[command(flatten, next_help_heading = "Credential spec from Active Directory")]
    pub directory: DirectoryArgs,
    /// Install (or repair) the webhook when it is missing or unhealthy, without asking.
    #[arg(long, overrides_with = "no_install_webhook", help_heading = "Webhook")]
    pub install_webhook: bool,
    /// Never install the webhook (the wizard stops if the cluster lacks the CRD).
    #[arg(long, overrides_with = "install_webhook", help_heading = "Webhook")]
    pub no_install_webhook: bool,
    /// Name of the webhook (install-webhook's --name).
    #[arg(long, value_name = "NAME", help_heading = "Webhook")]
    pub webhook_name: Option<String>,
    /// Namespace of the webhook (install-webhook's -n; default gmsa-webhook).
    #[arg(long, value_name = "NAMESPACE", help_heading = "Webhook")]
    pub webhook_namespace: Option<String>,
    /// What the API server does with a pod when the webhook cannot be reached.
    #[arg(
        long,
        value_enum,
        value_name = "POLICY",
        ignore_case = true,
        help_heading = "Webhook"
    )]
    pub failure_policy: Option<FailurePolicyArg>,
    /// Let cert-manager issue the webhook's certificates (default: a CA made here).
    #[arg(long, help_heading = "Webhook")]
    pub cert_manager: bool,
    /// Do not wait for the webhook's pods to be ready after installing it.
    #[arg(long, help_heading = "Webhook")]
    pub no_wait: bool,
}

/// Where the credential spec came from, for the equivalent commands.
enum Origin {
    File(PathBuf),
    /// Generated from the directory; written by `new-credspec --file <file>`.
    Directory {
        request: Box<NewCredspecRequest>,
        file: String,
    },
    /// Pasted on the terminal; the equivalent commands need it saved as `file`.
    Pasted {
        file: String,
    },
}

/// Everything the wizard decided: the requests it runs, and how it was asked for.
struct Plan {
    webhook: Option<InstallWebhookRequest>,
    origin: Origin,
    add: AddCredspecRequest,
    secret: Option<ops::CreateSecretRequest>,
}

/// The prompts: on stderr, each one answered by its flag when given.
struct Ask<'t> {
    interactive: bool,
    theme: &'t dyn Theme,
}

impl Ask<'_> {
    fn text(
        &self,
        prompt: &str,
        default: Option<String>,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Result<String, Error> {
        let mut input = Input::<String>::with_theme(self.theme).with_prompt(prompt);
        if let Some(d) = default {
            input = input.default(d);
        }
        input
            .validate_with(|s: &String| check(s.trim()))
            .interact_text()
            .map(|s| s.trim().to_owned())
            .map_err(interrupted)
    }
    /// A question whose empty answer means "none"; `initial` is there to edit.
    fn optional(
        &self,
        prompt: &str,
        initial: Option<&str>,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Result<Option<String>, Error> {
        let mut input = Input::<String>::with_theme(self.theme)
            .with_prompt(prompt)
            .allow_empty(true);
        if let Some(i) = initial {
            input = input.with_initial_text(i);
        }
        let s: String = input
            .validate_with(|s: &String| {
                if s.trim().is_empty() {
                    Ok(())
                } else {
                    check(s.trim())
                }
            })
            .interact_text()
            .map_err(interrupted)?;
        let s = s.trim().to_owned();
        Ok((!s.is_empty()).then_some(s))
    }
    fn confirm(&self, prompt: &str, default: bool) -> Result<bool, Error> {
        Confirm::with_theme(self.theme)
            .with_prompt(prompt)
            .default(default)
            .interact()
            .map_err(interrupted)
    }
    fn select(&self, prompt: &str, items: &[String], default: usize) -> Result<usize, Error> {
        Select::with_theme(self.theme)
            .with_prompt(prompt)
            .items(items)
            .default(default)
            .interact()
            .map_err(interrupted)
    }
    fn password(&self, prompt: &str) -> Result<String, Error> {
        Password::with_theme(self.theme)
            .with_prompt(prompt)
            .interact()
            .map_err(interrupted)
    }
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

/// Ctrl-C: put the terminal back as it was (echo on after a hidden prompt, cursor shown),
/// say that nothing was written, and exit 130.
fn on_ctrl_c() {
    #[cfg(unix)]
    let saved = nix::sys::termios::tcgetattr(std::io::stdin()).ok();
    let _ = ctrlc::set_handler(move || {
        #[cfg(unix)]
        if let Some(t) = &saved {
            let _ = nix::sys::termios::tcsetattr(
                std::io::stdin(),
                nix::sys::termios::SetArg::TCSANOW,
                t,
            );
        }
        let _ = console::Term::stderr().show_cursor();
        eprintln!("\ninterrupted; nothing was written");
        std::process::exit(130);
    });
}

/// The kubeconfig's current-context, to show which cluster this is (`None` when unknown).
fn current_context(c: &ClusterArgs) -> Option<String> {
    let path = match &c.kubeconfig {
        Some(p) => p.clone(),
        None => match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
            Some(v) => std::env::split_paths(&v).next()?,
            None => PathBuf::from(std::env::var_os("HOME")?)
                .join(".kube")
                .join("config"),
        },
    };
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_yaml::Value = serde_yaml::from_str(&text).ok()?;
    v.get("current-context")?.as_str().map(str::to_owned)
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

fn password_from_env() -> Option<String> {
    std::env::var(PASSWORD_ENV).ok().filter(|p| !p.is_empty())
}

/// The flags a run without questions lacks, checked before anything is read.
fn missing_flags(a: &WizardArgs) -> Vec<String> {
    let mut missing = vec![];
    if a.credspec_file.is_none() && a.account.is_none() {
        missing.push(
            "--credspec-file PATH (or --account NAME to generate it from Active Directory)".into(),
        );
    }
    if a.account.is_some() {
        if a.directory.server.is_none() && a.directory.domain.is_none() {
            missing.push("--server URL (or --domain DOMAIN)".into());
        }
        if a.directory.user.is_some() && password_from_env().is_none() {
            missing.push(format!(
                "${PASSWORD_ENV} (the password of --user; never a flag)"
            ));
        }
    }
    if a.secret_name.is_some()
        && matches!(
            a.ccg_plugin,
            Some(CcgPluginArg::Aws | CcgPluginArg::AzureKeyVault)
        )
        && a.plugin_input.is_none()
    {
        missing.push("--plugin-input (this ccg plug-in needs one)".into());
    }
    missing
}

pub async fn run(
    out: &mut dyn Write,
    before: &ClusterArgs,
    a: WizardArgs,
) -> Result<ExitCode, Error> {
    let c = &a.cluster.or(before);
    let interactive = !a.yes && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if interactive {
        on_ctrl_c();
    } else {
        let missing = missing_flags(&a);
        if !missing.is_empty() {
            return Err(Error::invalid(format!(
                "the wizard has no terminal to ask on (or --yes was given) and is missing: {}",
                missing.join(", ")
            ))
            .with_hint(
                "pass every answer as a flag (see `kubectl gmsa wizard --help`), or run it in a terminal",
            ));
        }
    }
    // Colours only on a terminal, never with NO_COLOR.
    let plain = SimpleTheme;
    let colourful = ColorfulTheme::default();
    let theme: &dyn Theme = if output::colour(std::io::stderr().is_terminal()) {
        &colourful
    } else {
        &plain
    };
    let ask = Ask { interactive, theme };
    let target = c.target();

    // 1. The cluster, and whether we may create what we need.
    let cluster = cluster::connect(&target).await?;
    say(&format!(
        "Cluster: {} (context {})",
        cluster.server,
        c.context
            .clone()
            .or_else(|| current_context(c))
            .unwrap_or_else(|| "current".into())
    ));
    let namespace = match &c.namespace {
        Some(ns) => ns.clone(),
        None if interactive => ask.text(
            "Namespace of the workload",
            Some(cluster.default_namespace.clone()),
            gmsa::names::check_label,
        )?,
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

    // 2. The webhook and its CRD: installed and healthy, or offered.
    let (webhook, server_version) = webhook_step(&ask, &cluster, c, &a).await?;

    // 3. Where the credential spec comes from, and its lint findings.
    let (spec, source, origin) = credspec_step(&ask, &a).await?;
    let djc = spec.domain_join_config.clone();

    // 4. Names.
    let suggested = gmsa::names::resource_name_from_account(spec.account());
    let credspec_name = match &a.credspec_name {
        Some(n) => n.clone(),
        None if interactive => ask.text(
            "Name of the GMSACredentialSpec resource",
            Some(suggested),
            gmsa::names::check_subdomain,
        )?,
        None => suggested,
    };
    let cluster_role_name = match &a.cluster_role_name {
        Some(n) => n.clone(),
        None if interactive => ask.text(
            "Name of the ClusterRole that may use it",
            Some(gmsa::cluster::objects::default_cluster_role(&credspec_name)),
            gmsa::names::check_subdomain,
        )?,
        None => gmsa::cluster::objects::default_cluster_role(&credspec_name),
    };

    // 5. Who may use it.
    let service_accounts = if !a.service_accounts.is_empty() {
        a.service_accounts.clone()
    } else if interactive {
        let answer = ask.text(
            &format!("Service accounts that may use it (NAME in {namespace}, or NAMESPACE:NAME; comma separated)"),
            Some(gmsa::cluster::objects::DEFAULT_SERVICE_ACCOUNT.into()),
            |_| Ok(()),
        )?;
        answer
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    } else {
        vec![gmsa::cluster::objects::DEFAULT_SERVICE_ACCOUNT.into()]
    };

    // 6. Domain-joined nodes, or a ccg.exe plug-in and a domain user.
    let mut plan = Plan {
        webhook,
        origin,
        add: AddCredspecRequest {
            target: target.clone(),
            source,
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
        ask.confirm("Are the Windows nodes joined to the domain?", true)?
    } else {
        true
    };
    if !domain_joined {
        non_domain_joined(&ask, &a, &mut plan, &djc.dns_name)?;
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
    if let Some(w) = &plan.webhook {
        let rendered = ops::install_webhook(
            &InstallWebhookRequest {
                dry_run: DryRun::Client,
                kube_version: server_version.clone(),
                ..w.clone()
            },
            &gmsa::progress::Silent,
        )
        .await?;
        let objects = ApplyOutcome {
            dry_run: DryRun::Client,
            objects: rendered.objects,
            findings: vec![],
        };
        output::objects(
            &mut std::io::stderr(),
            output::outcome_objects(&objects),
            ObjectFormat::Yaml,
        )
        .ok();
        say("# (the webhook's Secrets hold a CA and a serving certificate made at apply time)");
    }
    output::objects(
        &mut std::io::stderr(),
        output::outcome_objects(&preview),
        ObjectFormat::Yaml,
    )
    .ok();
    if let Some(s) = &plan.secret {
        say(&format!(
            "and Secret {}/{} (domain, username, password: not shown)",
            s.namespace
                .as_deref()
                .unwrap_or(gmsa::cluster::objects::DEFAULT_SECRET_NAMESPACE),
            s.secret_name
        ));
    }
    if interactive && !ask.confirm("Apply?", true)? {
        say("Nothing was written.");
        return Ok(ExitCode::SUCCESS);
    }

    // 8. Apply, verify, and tell the user what to put in the pod.
    if let Some(s) = &plan.secret {
        let o = with_progress(async |r| ops::create_secret(s, r).await).await;
        output::summary(out, &o?).ok();
    }
    if let Some(w) = &plan.webhook {
        let o = with_progress(async |r| ops::install_webhook(w, r).await).await;
        let o =
            o.map_err(|e| e.context("install the webhook (the credential spec was not added)"))?;
        let applied = ApplyOutcome {
            dry_run: o.dry_run,
            objects: o.objects.clone(),
            findings: vec![],
        };
        output::summary(out, &applied).ok();
        if let Some(cert) = &o.certificate {
            output::certificate_line(out, cert).ok();
        }
        if let Some(r) = &o.ready {
            writeln!(out, "webhook ready: {}/{} replicas", r.ready, r.wanted).ok();
        }
        wait_for_crd(&cluster).await?;
    }
    let o = with_progress(async |r| ops::add_credspec(&plan.add, r).await).await;
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
        .unwrap_or_else(|| gmsa::cluster::objects::DEFAULT_SERVICE_ACCOUNT.into());
    let sa_name = first_sa
        .rsplit(':')
        .next()
        .unwrap_or(gmsa::cluster::objects::DEFAULT_SERVICE_ACCOUNT)
        .to_owned();
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
        equivalent_commands(c, &plan).join("\n  ")
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

/// Step 2: read the webhook's status (what `kubectl gmsa status` reads) and, when it is
/// missing or unhealthy, offer to install it. Returns the install to run at apply time and
/// the server's version (to render the preview for).
async fn webhook_step(
    ask: &Ask<'_>,
    cluster: &gmsa::cluster::Cluster,
    c: &ClusterArgs,
    a: &WizardArgs,
) -> Result<(Option<InstallWebhookRequest>, Option<String>), Error> {
    let name = a.webhook_name.clone();
    let ns = a.webhook_namespace.clone();
    let shown_name = name.as_deref().unwrap_or(DEFAULT_NAME);
    let shown_ns = ns.as_deref().unwrap_or(DEFAULT_NAMESPACE);
    let status = ops::status(
        &ops::StatusRequest {
            target: c.target(),
            name: name.clone(),
            namespace: ns.clone(),
        },
        &gmsa::progress::Silent,
    )
    .await;
    let (crd_present, missing, healthy, version) = match &status {
        Ok(s) => {
            let missing =
                !s.crd.present || !s.deployment.present || s.webhooks.iter().any(|w| !w.present);
            let verdict = if s.healthy {
                "installed and healthy".to_owned()
            } else if missing {
                "not installed (or incomplete)".to_owned()
            } else {
                "installed but UNHEALTHY".to_owned()
            };
            say(&format!(
                "Webhook {shown_name} in namespace {shown_ns}: {verdict}"
            ));
            say(&format!(
                "  CRD {}: {}",
                credspec::CRD_NAME,
                if s.crd.present { "present" } else { "MISSING" }
            ));
            for p in &s.problems {
                say(&format!("  problem: {p}"));
            }
            (
                s.crd.present,
                missing,
                s.healthy,
                Some(s.server_version.clone()),
            )
        }
        Err(e) => {
            say(&format!(
                "Webhook {shown_name} in namespace {shown_ns}: could not read its status ({})",
                e.message
            ));
            let crd = crd_served(cluster).await;
            say(&format!(
                "  CRD {}: {}",
                credspec::CRD_NAME,
                if crd { "present" } else { "MISSING" }
            ));
            (crd, !crd, false, None)
        }
    };
    let install = if healthy || a.no_install_webhook {
        false
    } else if a.install_webhook {
        true
    } else if ask.interactive {
        say("  install-webhook's safety choices:");
        say(&format!("    namespace {shown_ns}: the webhook's Deployment, Service and Secrets live there (--webhook-namespace)"));
        say("    scope: pods in kube-system, the webhook's namespace and namespaces labelled kubectl-gmsa/webhook=disabled never go to it; on 1.28+ only pods that use gMSA do");
        say("    failure policy: Fail rejects pods while the webhook is down (upstream's choice); Ignore admits them unchecked");
        say("    certificates: a CA made here, no CSR API or openssl; renewed by re-running install-webhook (or --cert-manager)");
        say("    replicas: 2 pods and a PodDisruptionBudget, so draining a node never stops the webhook");
        say("    re-running is an upgrade: objects other tools made are left alone, the certificate is kept");
        let prompt = if missing {
            "Install the webhook now (at the end, after the preview)?"
        } else {
            "Re-install the webhook (an upgrade: it repairs objects that drifted)?"
        };
        ask.confirm(prompt, missing)?
    } else {
        false
    };
    if !install {
        if !crd_present {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "the cluster at {} does not serve GMSACredentialSpec (the CRD {} is missing) and the wizard was told not to install the webhook; nothing was written",
                    cluster.server,
                    credspec::CRD_NAME
                ),
            )
            .with_hint("pass --install-webhook to let the wizard install it, or run `kubectl gmsa install-webhook` first"));
        }
        if !healthy && !a.no_install_webhook {
            say("  (going on without installing: pods that use gMSA need a healthy webhook; --install-webhook installs it)");
        }
        return Ok((None, version));
    }
    let failure_policy = match a.failure_policy {
        Some(FailurePolicyArg::Fail) => FailurePolicy::Fail,
        Some(FailurePolicyArg::Ignore) => FailurePolicy::Ignore,
        None if ask.interactive => {
            let items = [
                "Fail: reject pods while the webhook cannot be reached (safest)".to_owned(),
                "Ignore: admit pods unchecked while it cannot be reached (never blocks the cluster)"
                    .to_owned(),
            ];
            if ask.select("Failure policy", &items, 0)? == 0 {
                FailurePolicy::Fail
            } else {
                FailurePolicy::Ignore
            }
        }
        None => FailurePolicy::Fail,
    };
    let cert_manager = if a.cert_manager {
        true
    } else if ask.interactive {
        let items = [
            "a CA and serving certificate made here (valid 365 days)".to_owned(),
            "cert-manager issues them (cert-manager must be installed)".to_owned(),
        ];
        ask.select("Webhook certificates", &items, 0)? == 1
    } else {
        false
    };
    let wait = if a.no_wait {
        false
    } else if ask.interactive {
        ask.confirm("Wait until the webhook's pods are ready?", true)?
    } else {
        true
    };
    Ok((
        Some(InstallWebhookRequest {
            target: c.target(),
            name,
            namespace: ns,
            failure_policy,
            cert_manager,
            wait,
            ..Default::default()
        }),
        version,
    ))
}

/// Step 3: the credential spec, from a file, from Active Directory, or pasted; linted.
async fn credspec_step(
    ask: &Ask<'_>,
    a: &WizardArgs,
) -> Result<(CredentialSpec, CredspecSource, Origin), Error> {
    enum Pick {
        File(PathBuf),
        Directory,
        Paste,
    }
    let pick = if let Some(f) = &a.credspec_file {
        Pick::File(f.clone())
    } else if a.account.is_some() {
        Pick::Directory
    } else if ask.interactive {
        let found = usual_files();
        let mut choices: Vec<String> = found
            .iter()
            .map(|p| format!("file {}", p.display()))
            .collect();
        choices.push("generate it from Active Directory (LDAP)".into());
        choices.push("paste the JSON".into());
        choices.push("another file...".into());
        let i = ask.select("Credential spec", &choices, 0)?;
        if i < found.len() {
            Pick::File(found[i].clone())
        } else if i == found.len() {
            Pick::Directory
        } else if i == found.len() + 1 {
            Pick::Paste
        } else {
            Pick::File(PathBuf::from(ask.text(
                "Path of the credential spec JSON file",
                None,
                |s| {
                    if Path::new(s).is_file() {
                        Ok(())
                    } else {
                        Err(format!("{s}: no such file"))
                    }
                },
            )?))
        }
    } else {
        unreachable!("checked by missing_flags")
    };
    match pick {
        Pick::File(file) => {
            let checked = credspec::check_file(&file)?;
            let source = file.display().to_string();
            show_findings(&source, &checked.findings);
            let (spec, _) = credspec::into_spec(checked, &source)?;
            show_spec(&spec);
            Ok((
                spec,
                CredspecSource {
                    credspec_file: Some(file.clone()),
                    credspec: None,
                },
                Origin::File(file),
            ))
        }
        Pick::Paste => {
            let value = read_pasted()?;
            let checked = credspec::check_value(&value);
            show_findings("pasted credential spec", &checked.findings);
            let (spec, _) = credspec::into_spec(checked, "pasted")?;
            show_spec(&spec);
            let file = format!(
                "{}_{}.json",
                spec.domain_join_config.net_bios_name.to_lowercase(),
                spec.account().to_lowercase()
            );
            Ok((
                spec,
                CredspecSource {
                    credspec_file: None,
                    credspec: Some(value),
                },
                Origin::Pasted { file },
            ))
        }
        Pick::Directory => {
            // A wrong answer (server, CA, password...) is asked again, with the others kept.
            let mut previous: Option<NewCredspecRequest> = None;
            let (request, o) = loop {
                let request = directory_request(ask, a, previous.as_ref())?;
                let o = with_progress(async |r| ops::new_credspec(&request, r).await).await;
                match o {
                    Ok(o) => break (request, o),
                    Err(e) => {
                        let e = e.context("generate the credential spec from the directory");
                        if !ask.interactive {
                            return Err(e);
                        }
                        output::error(&e);
                        if !ask.confirm("Change the answers and try again?", true)? {
                            return Err(Error::new(
                                e.kind,
                                "the wizard stopped: no credential spec; nothing was written",
                            ));
                        }
                        previous = Some(request);
                    }
                }
            };
            say(&format!(
                "Read from {}: the domain {} ({}), forest {}",
                request
                    .directory
                    .server_url()
                    .map(|u| u.url().to_string())
                    .unwrap_or_default(),
                o.domain.dns_name,
                o.domain.netbios_name,
                o.domain.forest_dns_name
            ));
            show_findings("credential spec", &o.findings);
            say(&o.credspec.to_json_pretty());
            show_spec(&o.credspec);
            let value = serde_json::to_value(&o.credspec).expect("serializes");
            Ok((
                o.credspec,
                CredspecSource {
                    credspec_file: None,
                    credspec: Some(value),
                },
                Origin::Directory {
                    request: Box::new(request),
                    file: o.default_file_name,
                },
            ))
        }
    }
}

/// The `new-credspec` request: each answer from its flag, else asked. The password comes
/// from $GMSA_LDAP_PASSWORD or a hidden prompt, never from the command line.
/// After a failed try, `previous` holds the answers to offer again.
fn directory_request(
    ask: &Ask<'_>,
    a: &WizardArgs,
    previous: Option<&NewCredspecRequest>,
) -> Result<NewCredspecRequest, Error> {
    let d = &a.directory;
    let before = previous.map(|p| &p.directory);
    let account = match &a.account {
        Some(n) => n.clone(),
        None => ask.text(
            "gMSA account name (sAMAccountName)",
            previous.map(|p| p.account.clone()),
            |s| gmsa::names::check_account_name(s.trim_end_matches('$')),
        )?,
    };
    let server = match (&d.server, &d.domain) {
        (Some(s), _) => Some(s.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(ask.text(
            "Domain controller: ldaps://HOST[:PORT], or ldap://HOST[:PORT] (StartTLS; Kerberos seals it)",
            before.and_then(|b| b.server.clone()),
            |s| {
                DirectoryTarget {
                    server: Some(s.to_owned()),
                    ..Default::default()
                }
                .server_url()
                .map(|_| ())
                .map_err(|e| e.message)
            },
        )?),
    };
    let ca_file = match &d.ca_file {
        Some(f) => Some(f.clone()),
        None if ask.interactive => ask
            .optional(
                "PEM file of the CA that signed the DC's certificate (empty: the system's trust store)",
                before
                    .and_then(|b| b.ca_file.as_ref())
                    .and_then(|f| f.to_str()),
                |s| {
                    if Path::new(s).is_file() {
                        Ok(())
                    } else {
                        Err(format!("{s}: no such file"))
                    }
                },
            )?
            .map(PathBuf::from),
        None => None,
    };
    let user = match &d.user {
        Some(u) => Some(u.clone()),
        None if ask.interactive => ask.optional(
            "Bind as (user@domain or DOMAIN\\user; empty: Kerberos with your kinit ticket)",
            before.and_then(|b| b.user.as_deref()),
            |_| Ok(()),
        )?,
        None => None,
    };
    let password = match &user {
        None => None,
        // After a failed try, the environment's password is not used again.
        Some(u) => match password_from_env().filter(|_| previous.is_none()) {
            Some(p) => {
                say(&format!("  password of {u}: from ${PASSWORD_ENV}"));
                Some(p)
            }
            None if ask.interactive => Some(ask.password(&format!("Password of {u}"))?),
            None => unreachable!("checked by missing_flags"),
        },
    };
    Ok(NewCredspecRequest {
        directory: DirectoryTarget {
            server,
            domain: d.domain.clone(),
            ca_file,
            user,
            password,
            timeout_secs: Some(d.timeout),
        },
        account,
        additional_accounts: a.additional_accounts.clone(),
        plugin: ops::PluginRequest::default(),
        credspec_name: None,
    })
}

/// Read a pasted JSON document from the terminal: it ends when it parses (or at an empty
/// line after some text).
fn read_pasted() -> Result<serde_json::Value, Error> {
    say("Paste the credential spec JSON (it ends when the braces close; Ctrl-C stops):");
    let stdin = std::io::stdin();
    let mut text = String::new();
    loop {
        let mut line = String::new();
        let n = stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::invalid(format!("failed to read the pasted text: {e}")))?;
        text.push_str(&line);
        if let Ok(v) = credspec::model::parse_value(&text) {
            return Ok(v);
        }
        if n == 0 || (line.trim().is_empty() && !text.trim().is_empty()) {
            return credspec::model::parse_value(&text)
                .map_err(|e| e.context("read the pasted credential spec"));
        }
    }
}

fn show_findings(source: &str, findings: &[Finding]) {
    if findings.is_empty() {
        say(&format!("Lint of {source}: no findings"));
    } else {
        say(&format!("Lint of {source}:"));
        output::findings(
            &mut std::io::stderr(),
            source,
            findings,
            std::io::stderr().is_terminal(),
        )
        .ok();
    }
}

fn show_spec(spec: &CredentialSpec) {
    let djc = &spec.domain_join_config;
    say(&format!(
        "  gMSA {} in {} ({}), domain SID {}",
        djc.machine_account_name, djc.dns_name, djc.net_bios_name, djc.sid
    ));
}

/// Step 6 for nodes that are not domain joined: the ccg.exe plug-in and the domain user.
fn non_domain_joined(
    ask: &Ask<'_>,
    a: &WizardArgs,
    plan: &mut Plan,
    dns_name: &str,
) -> Result<(), Error> {
    let interactive = ask.interactive;
    let plugin: CcgPlugin = match a.ccg_plugin {
        Some(p) => p.into(),
        None if interactive => {
            let names = [
                "rancher (reads a Kubernetes secret)".to_owned(),
                "azure-key-vault".to_owned(),
                "aws".to_owned(),
            ];
            let i = ask.select("ccg.exe plug-in on the nodes", &names, 0)?;
            [CcgPlugin::Rancher, CcgPlugin::AzureKeyVault, CcgPlugin::Aws][i]
        }
        None => CcgPlugin::Rancher,
    };
    let secret_name = match &a.secret_name {
        Some(s) => s.clone(),
        None => ask.text(
            "Name of the Secret with the domain user",
            Some("gmsa-domain-user".into()),
            gmsa::names::check_subdomain,
        )?,
    };
    let secret_namespace = a
        .secret_namespace
        .clone()
        .unwrap_or_else(|| gmsa::cluster::objects::DEFAULT_SECRET_NAMESPACE.into());
    let plugin_input = match (&a.plugin_input, plugin) {
        (Some(i), _) => Some(i.clone()),
        (None, CcgPlugin::Rancher) => None,
        (None, _) if interactive => Some(ask.text("Plug-in input", None, |_| Ok(()))?),
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
    if plugin == CcgPlugin::Rancher
        && interactive
        && ask.confirm(
            &format!(
                "Create the Secret {secret_namespace}/{secret_name} with the domain user now?"
            ),
            true,
        )?
    {
        let domain = ask.text("Domain", Some(dns_name.to_owned()), |_| Ok(()))?;
        let username = ask.text(
            "Domain user allowed to read the gMSA password",
            None,
            |_| Ok(()),
        )?;
        let password = ask.password("Its password")?;
        plan.secret = Some(ops::CreateSecretRequest {
            target: plan.add.target.clone(),
            secret_name,
            namespace: Some(secret_namespace),
            domain,
            username,
            password,
            overwrite: a.overwrite,
            dry_run: DryRun::None,
        });
    }
    Ok(())
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

/// A CRD just created is served a moment later: wait for it (at most 30 s).
async fn wait_for_crd(cluster: &gmsa::cluster::Cluster) -> Result<(), Error> {
    for _ in 0..300 {
        if crd_served(cluster).await {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(Error::new(
        ErrorKind::Timeout,
        format!(
            "failed to see the CRD {} served within 30 s after installing the webhook; the credential spec was not added",
            credspec::CRD_NAME
        ),
    )
    .with_hint("run the wizard again once `kubectl gmsa status` shows the CRD"))
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

/// The non-interactive command lines that do what the wizard did (comments start with #).
/// No secret is ever part of them: passwords are named by where they are read from.
fn equivalent_commands(c: &ClusterArgs, plan: &Plan) -> Vec<String> {
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
    if let Some(w) = &plan.webhook {
        let mut cmd = format!("kubectl gmsa {g}install-webhook");
        if let Some(n) = &w.name {
            cmd.push_str(&format!(" --name {}", sh(n)));
        }
        if let Some(ns) = &w.namespace {
            cmd.push_str(&format!(" -n {}", sh(ns)));
        }
        cmd.push_str(match w.failure_policy {
            FailurePolicy::Fail => " --failure-policy Fail",
            FailurePolicy::Ignore => " --failure-policy Ignore",
        });
        if w.cert_manager {
            cmd.push_str(" --cert-manager");
        }
        if !w.wait {
            cmd.push_str(" --no-wait");
        }
        lines.push(cmd);
    }
    let file = match &plan.origin {
        Origin::File(f) => f.display().to_string(),
        Origin::Pasted { file } => {
            lines.push(format!("# save the JSON you pasted as {file}"));
            file.clone()
        }
        Origin::Directory { request, file } => {
            let d = &request.directory;
            let mut cmd = format!(
                "kubectl gmsa new-credspec --account {}",
                sh(&request.account)
            );
            for x in &request.additional_accounts {
                cmd.push_str(&format!(" --additional-account {}", sh(x)));
            }
            if let Some(s) = &d.server {
                cmd.push_str(&format!(" --server {}", sh(s)));
            }
            if let Some(dom) = &d.domain {
                cmd.push_str(&format!(" --domain {}", sh(dom)));
            }
            if let Some(ca) = &d.ca_file {
                cmd.push_str(&format!(" --ca-file {}", sh(&ca.display().to_string())));
            }
            if let Some(u) = &d.user {
                lines.push(format!(
                    "# the password of {u}: from ${PASSWORD_ENV}, or typed at the hidden prompt"
                ));
                cmd.push_str(&format!(" --user {}", sh(u)));
            } else {
                lines.push("# Kerberos: with your ticket cache (kinit)".into());
            }
            if d.timeout_secs != Some(gmsa::directory::DEFAULT_TIMEOUT_SECS) {
                if let Some(t) = d.timeout_secs {
                    cmd.push_str(&format!(" --timeout {t}"));
                }
            }
            cmd.push_str(&format!(" --file {}", sh(file)));
            lines.push(cmd);
            file.clone()
        }
    };
    if let Some(s) = &plan.secret {
        lines.push(format!(
            "kubectl gmsa {g}create-secret {} -n {} --domain {} --username {} --password-stdin",
            sh(&s.secret_name),
            sh(s.namespace
                .as_deref()
                .unwrap_or(gmsa::cluster::objects::DEFAULT_SECRET_NAMESPACE)),
            sh(&s.domain),
            sh(&s.username)
        ));
    }
    let a = &plan.add;
    let mut cmd = format!("kubectl gmsa {g}add-credspec --credspec-file {}", sh(&file));
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
    lines
}
