//! `install-webhook`, `uninstall-webhook`, `rotate-certs` and `status`: their flags, and
//! how their outcomes are printed. The work is in `gmsa::ops` (webhook operations).

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use gmsa::ops::{self, ApplyOutcome};
use gmsa::{Error, ErrorKind};

use crate::args::{ClusterArgs, FailurePolicyArg, ObjectFormat, ReportFormat, WriteArgs};
use crate::duration::{parse_days, parse_duration};
use crate::output::{self, io};
use crate::progress::with_progress;

/// `--name`: shared by every webhook command.
#[derive(Debug, Args, Clone)]
pub struct WebhookName {
    /// Name of the webhook: its Service, Deployment, Secrets and webhook configurations.
    /// The webhook's namespace is -n/--namespace (default here: gmsa-webhook).
    #[arg(long, value_name = "NAME", default_value = gmsa::cluster::webhook::DEFAULT_NAME)]
    pub name: String,
}

/// `--wait`/`--no-wait` and `--timeout`.
#[derive(Debug, Args, Clone)]
pub struct WaitArgs {
    /// Wait until the webhook's Deployment is ready (the default).
    #[arg(long, overrides_with = "no_wait")]
    pub wait: bool,
    /// Return once the objects are written.
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait, such as 90s, 5m or 1h.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub timeout: u64,
}

impl WaitArgs {
    fn wait(&self) -> bool {
        !self.no_wait
    }
}

/// `--webhook`: which webhook server `install-webhook` deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WebhookServerArg {
    /// kubernetes-sigs/windows-gmsa's image (checks the pod level and containers only).
    Upstream,
    /// Ours, gmsa-webhook: also init and ephemeral containers, reloads renewed certificates.
    KubectlGmsa,
}

impl From<WebhookServerArg> for gmsa::cluster::webhook::WebhookServer {
    fn from(w: WebhookServerArg) -> Self {
        match w {
            WebhookServerArg::Upstream => gmsa::cluster::webhook::WebhookServer::Upstream,
            WebhookServerArg::KubectlGmsa => gmsa::cluster::webhook::WebhookServer::KubectlGmsa,
        }
    }
}

#[derive(Debug, Args)]
pub struct InstallWebhookArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub name: WebhookName,
    /// Which webhook server to deploy. kubectl-gmsa's own also checks init and ephemeral
    /// containers (the upstream v0.13.0 image does not).
    #[arg(long, value_enum, value_name = "SERVER", default_value = "upstream")]
    pub webhook: WebhookServerArg,
    /// The webhook image [default: the chosen server's image for this release:
    /// registry.k8s.io/gmsa-webhook/k8s-gmsa-webhook:v0.13.0 for upstream].
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Number of webhook pods (2 or more adds a PodDisruptionBudget).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub replicas: u32,
    /// Let the webhook pods run on control-plane nodes.
    #[arg(long)]
    pub tolerate_control_plane: bool,
    /// Extra node selector, KEY=VALUE (repeatable); kubernetes.io/os=linux is always set.
    #[arg(long, value_name = "KEY=VALUE")]
    pub node_selector: Vec<String>,
    /// What the API server does with a pod when the webhook cannot be reached.
    #[arg(
        long,
        value_enum,
        value_name = "POLICY",
        default_value = "fail",
        ignore_case = true
    )]
    pub failure_policy: FailurePolicyArg,
    /// How long the serving certificate is valid, such as 365d or 8760h. It is renewed by
    /// install-webhook when it expires within 30 days.
    #[arg(long, value_name = "DURATION", default_value = "365d", value_parser = parse_days)]
    pub cert_validity: u64,
    /// Let cert-manager issue the certificates (an Issuer and Certificates; CA injection).
    #[arg(long)]
    pub cert_manager: bool,
    /// Take over objects of the same names that kubectl-gmsa did not make.
    #[arg(long)]
    pub overwrite: bool,
    /// With --dry-run=client: render for this Kubernetes version (default: the newest).
    #[arg(long, value_name = "MAJOR.MINOR")]
    pub kube_version: Option<String>,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
pub struct UninstallWebhookArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub name: WebhookName,
    /// Also delete the GMSACredentialSpec CRD. Refused while credential specs exist.
    #[arg(long)]
    pub purge: bool,
    /// With --purge: delete the CRD even though credential specs exist (they go with it).
    #[arg(long, requires = "purge")]
    pub force: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
pub struct RotateCertsArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub name: WebhookName,
    /// Make a new CA too. The API server trusts old and new until the pods serve the new one.
    #[arg(long)]
    pub new_ca: bool,
    /// How long the new serving certificate is valid, such as 365d or 8760h.
    #[arg(long, value_name = "DURATION", default_value = "365d", value_parser = parse_days)]
    pub cert_validity: u64,
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Print the objects written (a v1 List) instead of a summary.
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<ObjectFormat>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub name: WebhookName,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: ReportFormat,
}

pub async fn install(
    out: &mut dyn Write,
    before: &ClusterArgs,
    a: InstallWebhookArgs,
) -> Result<ExitCode, Error> {
    let c = &a.cluster.or(before);
    let explicit_version = a.kube_version.is_some();
    let req = ops::InstallWebhookRequest {
        target: c.target(),
        name: Some(a.name.name),
        namespace: c.namespace.clone(),
        webhook: a.webhook.into(),
        image: a.image,
        replicas: a.replicas,
        tolerate_control_plane: a.tolerate_control_plane,
        node_selector: a.node_selector,
        failure_policy: a.failure_policy.into(),
        cert_validity_days: a.cert_validity,
        cert_manager: a.cert_manager,
        wait: a.wait.wait(),
        timeout_secs: a.wait.timeout,
        dry_run: a.write.dry_run.into(),
        overwrite: a.overwrite,
        kube_version: a.kube_version,
    };
    let o = with_progress(async |r| ops::install_webhook(&req, r).await).await;
    let o = o?;
    let applied = ApplyOutcome {
        dry_run: o.dry_run,
        objects: o.objects.clone(),
        findings: vec![],
    };
    if let Some(format) = a.write.output {
        if o.dry_run == gmsa::cluster::DryRun::Client {
            eprint!(
                "{}",
                client_render_note(&o.server_version, explicit_version, a.cert_manager)
            );
        }
        output::written(out, &o.objects, format)?;
        return Ok(ExitCode::SUCCESS);
    }
    output::summary(out, &applied).map_err(io)?;
    if let Some(cert) = &o.certificate {
        output::certificate_line(out, cert).map_err(io)?;
    }
    if let Some(r) = &o.ready {
        writeln!(out, "webhook ready: {}/{} replicas", r.ready, r.wanted).map_err(io)?;
    }
    if !o.match_conditions {
        eprintln!(
            "note: the API server ({}) predates webhook matchConditions (1.28): every pod outside the excluded namespaces goes to the webhook",
            o.server_version
        );
    }
    if let Some(why) = &o.waiting_to_enforce {
        eprintln!("note: {why}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The stderr note of `install-webhook --dry-run=client -o yaml|json`: which server version
/// the manifests were made for (no server was asked), and that the Secrets are redacted.
fn client_render_note(version: &str, explicit_version: bool, cert_manager: bool) -> String {
    let mut note = if explicit_version {
        format!("note: rendered for Kubernetes {version} (--kube-version); no server was asked\n")
    } else {
        format!(
            "note: rendered for Kubernetes {version} (no server was asked); \
             for an older server pass --kube-version MAJOR.MINOR (before 1.28: no matchConditions)\n"
        )
    };
    if !cert_manager {
        note.push_str(
            "note: the Secrets' keys are REDACTED, so this cannot be applied as it is: \
             use --cert-manager for GitOps, or run install-webhook without --dry-run\n",
        );
    }
    note
}

pub async fn uninstall(
    out: &mut dyn Write,
    before: &ClusterArgs,
    a: UninstallWebhookArgs,
) -> Result<ExitCode, Error> {
    let c = &a.cluster.or(before);
    let req = ops::UninstallWebhookRequest {
        target: c.target(),
        name: Some(a.name.name),
        namespace: c.namespace.clone(),
        purge: a.purge,
        force: a.force,
        dry_run: a.write.dry_run.into(),
    };
    let o = with_progress(async |r| ops::uninstall_webhook(&req, r).await).await;
    let o = o?;
    let applied = ApplyOutcome {
        dry_run: o.dry_run,
        objects: o.objects,
        findings: vec![],
    };
    match a.write.output {
        Some(format) => output::written(out, &applied.objects, format)?,
        None => {
            if applied.objects.is_empty() {
                eprintln!("Nothing to remove: no webhook of that name was found.");
            }
            output::summary(out, &applied).map_err(io)?
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn rotate(
    out: &mut dyn Write,
    before: &ClusterArgs,
    a: RotateCertsArgs,
) -> Result<ExitCode, Error> {
    let c = &a.cluster.or(before);
    let req = ops::RotateCertsRequest {
        target: c.target(),
        name: Some(a.name.name),
        namespace: c.namespace.clone(),
        new_ca: a.new_ca,
        cert_validity_days: a.cert_validity,
        wait: a.wait.wait(),
        timeout_secs: a.wait.timeout,
    };
    let o = with_progress(async |r| ops::rotate_certs(&req, r).await).await;
    let o = o?;
    if let Some(format) = a.output {
        // The objects on stdout; what the summary says about the certificate on stderr.
        output::written(out, &o.objects, format)?;
        output::certificate_line(&mut std::io::stderr(), &o.certificate).map_err(io)?;
        return Ok(ExitCode::SUCCESS);
    }
    let applied = ApplyOutcome {
        dry_run: gmsa::cluster::DryRun::None,
        objects: o.objects.clone(),
        findings: vec![],
    };
    output::summary(out, &applied).map_err(io)?;
    output::certificate_line(out, &o.certificate).map_err(io)?;
    if let Some(r) = &o.ready {
        writeln!(out, "webhook ready: {}/{} replicas", r.ready, r.wanted).map_err(io)?;
    }
    if o.certificate.new_ca && !o.old_ca_dropped {
        eprintln!("note: the webhook configurations trust the old and the new CA; once the pods have restarted, `kubectl gmsa rotate-certs` (without --new-ca) drops the old one");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn status(
    out: &mut dyn Write,
    before: &ClusterArgs,
    a: StatusArgs,
) -> Result<ExitCode, Error> {
    let c = &a.cluster.or(before);
    let req = ops::StatusRequest {
        target: c.target(),
        name: Some(a.name.name),
        namespace: c.namespace.clone(),
    };
    let o = with_progress(async |r| ops::status(&req, r).await).await;
    let o = o?;
    if a.output == ReportFormat::Json {
        output::json(out, &o)?;
    } else {
        let yes_no = |b: bool| if b { "present" } else { "MISSING" };
        let mut lines: Vec<(String, String)> = vec![];
        lines.push(("server version".into(), o.server_version.clone()));
        lines.push((
            "CRD".into(),
            if o.crd.present {
                format!("present, serving {}", o.crd.served_versions.join(", "))
            } else {
                "MISSING".into()
            },
        ));
        lines.push((
            "deployment".into(),
            if o.deployment.present {
                format!(
                    "{}/{} ready, {} webhook, image {}",
                    o.deployment.ready,
                    o.deployment.wanted,
                    o.deployment.webhook.unwrap_or_default().as_str(),
                    o.deployment.image.as_deref().unwrap_or("?")
                )
            } else {
                "MISSING".into()
            },
        ));
        for w in &o.webhooks {
            let mut s = yes_no(w.present).to_owned();
            if w.present {
                s.push_str(&format!(
                    ", failurePolicy {}",
                    w.failure_policy.as_deref().unwrap_or("?")
                ));
                s.push_str(if w.ca_bundle_verifies {
                    ", CA bundle verifies the certificate"
                } else {
                    ", CA bundle does NOT verify the certificate"
                });
                if w.match_conditions {
                    s.push_str(", only pods that use gMSA");
                }
            }
            lines.push((
                w.kind
                    .replace("WebhookConfiguration", " webhook")
                    .to_lowercase(),
                s,
            ));
        }
        lines.push((
            "certificate".into(),
            match (&o.certificate.not_after, o.certificate.days_left) {
                (Some(at), Some(days)) => format!(
                    "for {}, expires {at} ({days} days)",
                    o.certificate.server_name
                ),
                _ => "MISSING".into(),
            },
        ));
        lines.push((
            "credential specs".into(),
            o.credential_specs
                .map(|n| n.to_string())
                .unwrap_or_else(|| "unknown".into()),
        ));
        let verdict = if o.healthy { "healthy" } else { "UNHEALTHY" };
        writeln!(
            out,
            "webhook {} in namespace {}: {verdict}",
            o.name, o.namespace
        )
        .map_err(io)?;
        for (k, v) in &lines {
            writeln!(out, "  {:<20}{v}", format!("{k}:")).map_err(io)?;
        }
        for p in &o.problems {
            writeln!(out, "problem: {p}").map_err(io)?;
        }
        for w in &o.warnings {
            writeln!(out, "warning: {w}").map_err(io)?;
        }
    }
    Ok(if o.healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(ErrorKind::Unhealthy.exit_code() as u8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_render_note_names_the_version_and_the_redacted_secrets() {
        let n = client_render_note("1.33", false, false);
        assert!(
            n.contains("Kubernetes 1.33") && n.contains("--kube-version"),
            "{n}"
        );
        assert!(
            n.contains("REDACTED") && n.contains("--cert-manager"),
            "{n}"
        );
        assert_eq!(n.lines().count(), 2, "{n}");
        assert!(n.lines().all(|l| l.starts_with("note: ")), "{n}");
        // cert-manager issues the keys in the cluster: nothing is redacted.
        let n = client_render_note("1.27", true, true);
        assert!(n.contains("1.27") && !n.contains("REDACTED"), "{n}");
    }
}
