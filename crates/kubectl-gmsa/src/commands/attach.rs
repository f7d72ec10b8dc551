//! `kubectl gmsa attach`: set a workload's gMSA credential spec (and Windows node selector)
//! with one server-side apply; `-o yaml` prints the apply configuration for GitOps.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use gmsa::ops::{self, ApplyOutcome};
use gmsa::Error;

use crate::args::{ClusterArgs, WriteArgs};
use crate::output::{self, io};

/// Arguments of `attach`.
#[derive(Debug, Args)]
pub struct AttachArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The workload: deployment/NAME, statefulset/NAME, daemonset/NAME, job/NAME or cronjob/NAME (in -n's namespace).
    #[arg(value_name = "KIND/NAME")]
    pub workload: String,
    /// The GMSACredentialSpec the pods run with.
    #[arg(long, value_name = "NAME")]
    pub credspec_name: String,
    /// Set it on this container only (default: the pod level, which every container inherits).
    #[arg(long, value_name = "NAME")]
    pub container: Option<String>,
    /// Do not add the node selector kubernetes.io/os: windows.
    #[arg(long)]
    pub no_windows_selector: bool,
    /// Let the workload's service account use the credential spec (a RoleBinding to the
    /// spec's cluster role; the role is created when none exists).
    #[arg(long)]
    pub bind: bool,
    /// Take the fields over when another tool manages them.
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

pub async fn run(
    out: &mut dyn Write,
    before: &ClusterArgs,
    a: AttachArgs,
) -> Result<ExitCode, Error> {
    let c = &a.cluster.or(before);
    let req = ops::AttachRequest {
        target: c.target(),
        workload: a.workload.clone(),
        namespace: c.namespace.clone(),
        credspec_name: a.credspec_name.clone(),
        container: a.container.clone(),
        no_windows_selector: a.no_windows_selector,
        bind: a.bind,
        overwrite: a.overwrite,
        dry_run: a.write.dry_run.into(),
    };
    let spinner = crate::progress::Spinner::new();
    let o = ops::attach(&req, &spinner).await;
    spinner.finish();
    let o = o?;
    for w in &o.warnings {
        eprintln!("warning: {w}");
    }
    let mut all = o.objects.clone();
    all.push(o.workload.clone());
    match a.write.output {
        Some(format) => output::written(out, &all, format)?,
        None => {
            let as_apply = ApplyOutcome {
                dry_run: o.dry_run,
                objects: all,
                findings: vec![],
            };
            output::summary(out, &as_apply).map_err(io)?
        }
    }
    Ok(ExitCode::SUCCESS)
}
