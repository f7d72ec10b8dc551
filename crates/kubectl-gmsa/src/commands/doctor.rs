//! `kubectl gmsa doctor`: the checklist of the whole gMSA chain, printed grouped by layer,
//! or as JSON; exit 0 when nothing fails, 10 when something does.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Args;
use gmsa::ops::doctor::{Layer, Verdict};
use gmsa::ops::{self, DoctorOutcome};
use gmsa::{Error, ErrorKind};

use crate::args::{ClusterArgs, DirectoryArgs, PasswordStdinArgs, ReportFormat};
use crate::output::{self, io};

/// Arguments of `doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// What to check: KIND/NAME of a workload (pod, deployment, statefulset, daemonset, job,
    /// cronjob; in -n's namespace) or credspec/NAME. Default: the webhook, every credential
    /// spec and every workload (in every namespace, or -n's) that names one.
    #[arg(value_name = "KIND/NAME")]
    pub object: Option<String>,
    /// Also run the in-container checks (nltest /parentdomain, nltest /sc_verify, klist get
    /// krbtgt, an SRV lookup, whoami) in up to 3 running Windows pods of each workload.
    #[arg(long)]
    pub exec: bool,
    /// The domain user the ccg plug-in uses (non-domain-joined nodes): checked in Active
    /// Directory (enabled, not locked or expired, allowed to read the gMSA password).
    /// The plug-in Secret's values are never read.
    #[arg(long, value_name = "USER")]
    pub plugin_account: Option<String>,
    /// Name of the webhook installation.
    #[arg(long, value_name = "NAME")]
    pub webhook_name: Option<String>,
    /// Namespace of the webhook installation.
    #[arg(long, value_name = "NAMESPACE")]
    pub webhook_namespace: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: ReportFormat,
    /// Active Directory (any of --server, --domain or --user turns the directory checks on;
    /// with --user alone, the spec's domain is found through DNS).
    #[command(flatten)]
    pub directory: DirectoryArgs,
    #[command(flatten)]
    pub password: PasswordStdinArgs,
}

pub async fn run(
    out: &mut dyn Write,
    before: &ClusterArgs,
    a: DoctorArgs,
) -> Result<ExitCode, Error> {
    let c = &a.cluster.or(before);
    let d = &a.directory;
    let directory = if d.server.is_some() || d.domain.is_some() || d.user.is_some() {
        Some(d.target(&a.password)?)
    } else {
        None
    };
    let req = ops::DoctorRequest {
        target: c.target(),
        namespace: c.namespace.clone(),
        object: a.object.clone(),
        directory,
        plugin_account: a.plugin_account.clone(),
        exec: a.exec,
        webhook_name: a.webhook_name.clone(),
        webhook_namespace: a.webhook_namespace.clone(),
    };
    let spinner = crate::progress::Spinner::new();
    let o = ops::doctor(&req, &spinner).await;
    spinner.finish();
    let o = o?;
    match a.output {
        ReportFormat::Json => output::json(out, &o)?,
        ReportFormat::Text => print(out, &o, std::io::stdout().is_terminal()).map_err(io)?,
    }
    Ok(if o.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(ErrorKind::Unhealthy.exit_code() as u8)
    })
}

/// The checklist, by layer: `PASS  check  subject  evidence`, and `fix:` under a warning or
/// a failure.
pub fn print(out: &mut dyn Write, o: &DoctorOutcome, terminal: bool) -> std::io::Result<()> {
    let colour = output::colour(terminal);
    writeln!(out, "doctor: {}", o.scope)?;
    let width = o.checks.iter().map(|c| c.check.len()).max().unwrap_or(0);
    let sub_width = o
        .checks
        .iter()
        .map(|c| c.subject.len())
        .max()
        .unwrap_or(0)
        .min(40);
    for layer in Layer::ALL {
        let checks: Vec<_> = o.checks.iter().filter(|c| c.layer == layer).collect();
        if checks.is_empty() {
            continue;
        }
        writeln!(out, "\n{}", layer.title())?;
        for c in checks {
            let (code, label) = match c.status {
                Verdict::Pass => ("32", "PASS"),
                Verdict::Warn => ("33", "WARN"),
                Verdict::Fail => ("31", "FAIL"),
                Verdict::Skipped => ("2", "SKIP"),
            };
            let label = if colour {
                format!("\x1b[{code}m{label}\x1b[0m")
            } else {
                label.to_owned()
            };
            writeln!(
                out,
                "  {label}  {:<width$}  {:<sub_width$}  {}",
                c.check, c.subject, c.message
            )?;
            if let Some(fix) = &c.fix {
                writeln!(out, "        {:<width$}  fix: {fix}", "")?;
            }
        }
    }
    let n = &o.counts;
    writeln!(
        out,
        "\n{} passed, {} warnings, {} failed, {} skipped",
        n.pass, n.warn, n.fail, n.skipped
    )
}
