//! `doctor`: the gMSA troubleshooting guide as one operation. It reads the webhook, the
//! credential specs, the workloads that name them, Active Directory (when given a domain
//! controller) and, with `exec`, what a running Windows container sees, then returns one
//! checklist grouped by layer. It never writes and never reads a Secret's values.

mod cluster_checks;
mod container;
mod directory_checks;
pub mod incontainer;
pub mod plugins;
mod report;
mod scope;
pub mod workload;

pub use report::{Check, Counts, Layer, Verdict};
pub(crate) use scope::get_workload;
pub use scope::{Subject, WorkloadKind};

use std::sync::atomic::{AtomicU64, Ordering};

use futures::future::{join_all, BoxFuture, FutureExt};
use serde::{Deserialize, Serialize};

use crate::cluster::{self, Target};
use crate::directory::DirectoryTarget;
use crate::error::Result;
use crate::progress::Reporter;

/// What to examine and how far to look.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DoctorRequest {
    pub target: Target,
    /// Namespace of the workload; with no `object`, limits the workloads examined to this
    /// namespace (default: every namespace).
    pub namespace: Option<String>,
    /// `kind/name` of one workload (pod, deployment, statefulset, daemonset, job, cronjob)
    /// or `credspec/NAME`; `None` for the webhook, every credential spec and every workload
    /// that names one.
    pub object: Option<String>,
    /// Also ask Active Directory, through this domain controller.
    pub directory: Option<DirectoryTarget>,
    /// The domain user the ccg plug-in uses (non-domain-joined hosts), to check it in AD.
    pub plugin_account: Option<String>,
    /// Also run the in-container checks (`nltest`, `klist`, an SRV lookup, `whoami`) in each
    /// running Windows pod of the workload.
    pub exec: bool,
    /// The webhook's name and namespace (default `gmsa-webhook` in `gmsa-webhook`).
    pub webhook_name: Option<String>,
    pub webhook_namespace: Option<String>,
}

/// The checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorOutcome {
    /// What was examined, in words.
    pub scope: String,
    /// Grouped by layer (directory, cluster, workload, node).
    pub checks: Vec<Check>,
    pub counts: Counts,
    /// No check failed.
    pub passed: bool,
}

type Group<'a> = BoxFuture<'a, Vec<Check>>;

/// Run every check that applies, concurrently. Failed checks are in the outcome; errors are
/// for what stopped the doctor from looking at all (no cluster, a bad `object`).
pub async fn doctor(req: &DoctorRequest, reporter: &dyn Reporter) -> Result<DoctorOutcome> {
    let subject = scope::Subject::parse(req.object.as_deref())?;
    if let Some(ns) = &req.namespace {
        crate::names::check_namespace(ns)?;
    }
    if let Some(d) = &req.directory {
        if d.server.is_some() || d.domain.is_some() {
            d.server_url()?;
        }
    }
    let cluster = cluster::connect(&req.target).await?;
    reporter.step("finding the credential specs and workloads to check");
    let found = scope::resolve(&cluster, &subject, req.namespace.as_deref()).await?;

    let mut groups: Vec<(&str, Group<'_>)> = vec![(
        "the webhook",
        cluster_checks::webhook(
            req.target.clone(),
            req.webhook_name.clone(),
            req.webhook_namespace.clone(),
        )
        .boxed(),
    )];
    for spec in &found.credspecs {
        groups.push((
            "a credential spec",
            cluster_checks::credspec(&cluster, spec).boxed(),
        ));
        if let Some(d) = &req.directory {
            groups.push((
                "Active Directory",
                directory_checks::checks(d, spec, req.plugin_account.as_deref()).boxed(),
            ));
        }
    }
    if req.directory.is_none() && !found.credspecs.is_empty() {
        groups.push((
            "Active Directory",
            async {
                vec![Check::skipped(
                    Layer::Directory,
                    "directory",
                    "domain",
                    "Active Directory not asked: pass --server ldaps://<dc> or --domain <domain> (with --user, or a Kerberos ticket)",
                )]
            }
            .boxed(),
        ));
    }
    for missing in &found.missing_credspecs {
        let m = missing.clone();
        groups.push((
            "a credential spec",
            async move {
                vec![Check::fail(
                    Layer::Cluster,
                    "credspec-exists",
                    &format!("credspec/{m}"),
                    format!("no GMSACredentialSpec named {m}"),
                    format!("kubectl gmsa add-credspec --credspec-file <{m}.json> --credspec-name {m} (or kubectl gmsa new-credspec --account <gMSA> -o resource | kubectl apply -f -)"),
                )]
            }
            .boxed(),
        ));
    }
    for w in &found.workloads {
        groups.push(("a workload", workload::checks(&cluster, w, &found).boxed()));
    }
    groups.push(("the Windows nodes", cluster_checks::nodes(&cluster).boxed()));
    if req.exec {
        for w in &found.workloads {
            groups.push((
                "inside the containers",
                container::checks(&cluster, w, &found).boxed(),
            ));
        }
    } else if !found.workloads.is_empty() {
        groups.push((
            "inside the containers",
            async {
                vec![Check::skipped(
                    Layer::Node,
                    "in-container",
                    "pods",
                    "in-container checks not run: add --exec to run nltest, klist and an SRV lookup in each running Windows pod",
                )]
            }
            .boxed(),
        ));
    }

    let total = groups.len() as u64;
    let done = AtomicU64::new(0);
    let names: Vec<&str> = groups.iter().map(|(n, _)| *n).collect();
    reporter.step(&format!(
        "checking {}",
        names.first().copied().unwrap_or("the cluster")
    ));
    let results = join_all(groups.into_iter().map(|(name, g)| {
        let done = &done;
        async move {
            let r = g.await;
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            reporter.waiting(&format!("checked {name}"), n, total);
            r
        }
    }))
    .await;
    let mut checks: Vec<Check> = results.into_iter().flatten().collect();
    report::sort(&mut checks);
    let counts = Counts::of(&checks);
    Ok(DoctorOutcome {
        scope: found.describe(&subject),
        passed: counts.fail == 0,
        counts,
        checks,
    })
}
