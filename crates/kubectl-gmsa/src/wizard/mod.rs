//! `kubectl gmsa wizard`: asks, step by step, for what `install-webhook`, `new-credspec`,
//! `add-credspec` (and `create-secret`) need, showing what it finds on the way, then runs
//! those same requests and prints the equivalent non-interactive command lines. Prompts go
//! to stderr (dialoguer), results to stdout. Every question has a flag; with `--yes`, or
//! without a terminal, it never asks: it takes the defaults and fails with the list of flags
//! it is missing. Nothing is written before the final "Apply?".
//!
//! `plan.rs` holds the flags and the plan, `ask.rs` the prompts, `webhook.rs`,
//! `source.rs`, `host.rs` and `attach.rs` the steps that need more than a question,
//! `preview.rs` the one-line-per-object preview, `replay.rs` the equivalent commands;
//! `run` below goes through the steps in order. The wizard only fills
//! the core's requests and calls its operations (connecting, waiting for the CRD and the
//! kubeconfig's current context included).

mod ask;
mod attach;
mod host;
mod plan;
mod preview;
mod replay;
mod source;
mod webhook;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};
use gmsa::cluster::access::{may_i, Permission};
use gmsa::cluster::objects::ServiceAccountRef;
use gmsa::cluster::{self, DryRun};
use gmsa::credspec::{self, Severity};
use gmsa::ops::{self, AddCredspecRequest, ApplyOutcome, InstallWebhookRequest};
use gmsa::{Error, ErrorKind};

use crate::args::ClusterArgs;
use crate::output;
use crate::progress::with_progress;

use ask::{busy, on_ctrl_c, plan_applied, say, Ask};
use attach::{attach_step, check_workload};
use host::non_domain_joined;
pub use plan::WizardArgs;
use plan::{missing_flags, Plan};
use replay::equivalent_commands;
use source::credspec_step;
use webhook::webhook_step;

pub async fn run(
    out: &mut dyn Write,
    before: &ClusterArgs,
    a: WizardArgs,
) -> Result<ExitCode, Error> {
    let c = &a.cluster.or(before);
    if let Some(w) = &a.attach {
        check_workload(w).map_err(|m| Error::invalid(format!("invalid --attach: {m}")))?;
    }
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
            .or_else(|| gmsa::cluster::client::current_context(&target))
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
    let mut denied = vec![];
    for p in &checks {
        let ok = may_i(&cluster.client, p).await?;
        if !ok {
            denied.push(format!("  {}", p.describe()));
        }
        say(&format!(
            "  {} may {}",
            if ok { "✓" } else { "✗" },
            p.describe()
        ));
    }
    if denied.len() == checks.len() {
        // Nothing the wizard makes could be written: stop before asking anything more.
        return Err(Error::new(
            ErrorKind::Forbidden,
            format!(
                "the identity of this context may write none of what the wizard makes; nothing was asked or written. Missing:\n{}",
                denied.join("\n")
            ),
        )
        .with_hint(
            "ask a cluster administrator (someone bound to cluster-admin) to grant these, or run the wizard with a --context that has them",
        ));
    }
    if !denied.is_empty() {
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
            |s| check_service_accounts(s, &namespace),
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
        attach: None,
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
    let webhook_preview = match &plan.webhook {
        Some(w) => {
            let rendered = ops::install_webhook(
                &InstallWebhookRequest {
                    dry_run: DryRun::Client,
                    kube_version: server_version.clone(),
                    ..w.clone()
                },
                &gmsa::progress::Silent,
            )
            .await?;
            Some(ApplyOutcome {
                dry_run: DryRun::Client,
                objects: rendered.objects,
                findings: vec![],
            })
        }
        None => None,
    };
    let mut shown: Vec<&ApplyOutcome> = webhook_preview.iter().collect();
    shown.push(&preview);
    preview::show(&ask, &cluster, &shown, a.show_yaml).await?;
    if plan.webhook.is_some() {
        say("  (the webhook's Secrets hold a CA and a serving certificate made at apply time)");
    }
    if let Some(s) = &plan.secret {
        say(&format!(
            "  and Secret {}/{} (domain, username, password: not shown)",
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
    plan_applied();
    if let Some(s) = &plan.secret {
        busy();
        let o = with_progress(async |r| ops::create_secret(s, r).await).await;
        output::summary(out, &o?).ok();
    }
    if let Some(w) = &plan.webhook {
        busy();
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
        if let Some(why) = &o.waiting_to_enforce {
            eprintln!("note: {why}");
        }
        gmsa::cluster::wait::wait_crd_served(&cluster, std::time::Duration::from_secs(30))
            .await
            .map_err(|e| {
                Error::new(
                    e.kind,
                    format!(
                        "{} after installing the webhook; the credential spec was not added",
                        e.message
                    ),
                )
                .with_hint("run the wizard again once `kubectl gmsa status` shows the CRD")
            })?;
    }
    busy();
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
    // 9. Offer to attach it to a workload.
    plan.attach = attach_step(
        out,
        &ask,
        &cluster,
        &target,
        &namespace,
        &credspec_name,
        a.attach.as_deref(),
    )
    .await?;
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

/// A service account answer: `NAME` (in the workload's namespace) or `NAMESPACE:NAME`,
/// comma separated; each checked as add-credspec checks it.
fn check_service_accounts(answer: &str, namespace: &str) -> Result<(), String> {
    for s in answer.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        ServiceAccountRef::parse(s, namespace).map_err(|e| e.message)?;
    }
    Ok(())
}
