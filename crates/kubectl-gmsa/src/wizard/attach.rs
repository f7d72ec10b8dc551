//! The last step: offer to attach the credential spec just added to a workload (what
//! `kubectl gmsa attach KIND/NAME --bind` does), with a server dry-run preview first.
//! `--attach KIND/NAME` answers it without asking.

use std::io::Write;

use gmsa::cluster::{Cluster, DryRun, Target};
use gmsa::ops::doctor::WorkloadKind;
use gmsa::ops::{self, ApplyOutcome, AttachOutcome, AttachRequest};
use gmsa::Error;

use super::ask::{busy, say, Ask};
use crate::output;
use crate::progress::with_progress;

/// A workload answer: `kind/name` with a kind attach takes and a valid name.
pub(crate) fn check_workload(s: &str) -> Result<(), String> {
    let (kind, name) = s
        .split_once('/')
        .ok_or_else(|| format!("\"{s}\" is not KIND/NAME (for example deployment/web)"))?;
    match WorkloadKind::parse(kind) {
        Some(WorkloadKind::Pod) => {
            Err("a pod cannot change after it is created: name its controller".into())
        }
        Some(_) => gmsa::names::check_subdomain(name),
        None => Err(format!(
            "\"{kind}\" is not deployment, statefulset, daemonset, job or cronjob"
        )),
    }
}

/// Ask which workload to attach to (none: `None`), then preview, confirm and attach it.
/// Returns the request that ran, for the equivalent commands.
pub(crate) async fn attach_step(
    out: &mut dyn Write,
    ask: &Ask<'_>,
    cluster: &Cluster,
    target: &Target,
    namespace: &str,
    credspec_name: &str,
    given: Option<&str>,
) -> Result<Option<AttachRequest>, Error> {
    let mut workload = match given {
        Some(w) => w.to_owned(),
        None if ask.interactive => {
            if !ask.confirm(
                &format!(
                    "Attach gmsacredentialspec/{credspec_name} to a workload in namespace {namespace} now?"
                ),
                false,
            )? {
                return Ok(None);
            }
            pick_workload(ask, cluster, namespace).await?
        }
        None => return Ok(None),
    };
    // The preview (a server dry run) checks the answer: a workload that does not exist, or
    // has no pod template, is said at once and another can be chosen.
    let (req, preview) = loop {
        let req = AttachRequest {
            target: target.clone(),
            workload: workload.clone(),
            namespace: Some(namespace.to_owned()),
            credspec_name: credspec_name.to_owned(),
            bind: true,
            dry_run: DryRun::Server,
            ..Default::default()
        };
        busy();
        match with_progress(async |r| ops::attach(&req, r).await).await {
            Ok(p) => break (req, p),
            Err(e) if ask.interactive && given.is_none() => {
                output::error(&e);
                if !ask.confirm("Choose another workload?", true)? {
                    say("No workload was changed.");
                    return Ok(None);
                }
                workload = pick_workload(ask, cluster, namespace).await?;
            }
            Err(e) => {
                return Err(e.context(format!(
                "attach the credential spec to {workload} (it was added; nothing else was changed)"
            )))
            }
        }
    };
    say(&format!("Attaching to {} will:", req.workload));
    for o in as_apply(&preview).objects {
        let verb = match o.action {
            ops::Action::Created => "create",
            ops::Action::Unchanged => "unchanged",
            _ => "configure",
        };
        let ns = o
            .namespace
            .as_deref()
            .map(|n| format!(" -n {n}"))
            .unwrap_or_default();
        say(&format!("  {verb} {} {}{ns}", o.kind, o.name));
    }
    say("  (its pod template gets securityContext.windowsOptions.gmsaCredentialSpecName and the Windows node selector)");
    for w in &preview.warnings {
        say(&format!("warning: {w}"));
    }
    if ask.interactive && !ask.confirm("Attach?", true)? {
        say("The workload was left as it was.");
        return Ok(None);
    }
    let req = AttachRequest {
        dry_run: DryRun::None,
        ..req
    };
    busy();
    let o = with_progress(async |r| ops::attach(&req, r).await)
        .await
        .map_err(|e| e.context(format!("attach the credential spec to {}", req.workload)))?;
    output::summary(out, &as_apply(&o)).ok();
    if o.service_account_may_use == Some(false) {
        say(&format!(
            "warning: the service account of {} may not use gmsacredentialspec/{credspec_name}",
            req.workload
        ));
    }
    Ok(Some(req))
}

/// The deployments, stateful sets and daemon sets of the namespace to choose from, or
/// another `kind/name` typed in.
async fn pick_workload(ask: &Ask<'_>, cluster: &Cluster, namespace: &str) -> Result<String, Error> {
    let found = ops::attachable_workloads(cluster, namespace).await?;
    let typed = || {
        ask.text(
            "Workload (deployment/NAME, statefulset/NAME, daemonset/NAME, job/NAME or cronjob/NAME)",
            None,
            check_workload,
        )
    };
    if found.is_empty() {
        say(&format!(
            "  (no deployment, statefulset or daemonset in namespace {namespace})"
        ));
        return typed();
    }
    let mut choices = found.clone();
    choices.push("another (type KIND/NAME)...".into());
    let i = ask.select("Workload", &choices, 0)?;
    match found.get(i) {
        Some(w) => Ok(w.clone()),
        None => typed(),
    }
}

/// The workload and the role binding as one write's outcome (for the summary lines).
fn as_apply(o: &AttachOutcome) -> ApplyOutcome {
    let mut objects = o.objects.clone();
    objects.push(o.workload.clone());
    ApplyOutcome {
        dry_run: o.dry_run,
        objects,
        findings: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::check_workload;

    #[test]
    fn a_workload_answer_is_kind_slash_name() {
        assert!(check_workload("deployment/web").is_ok());
        assert!(check_workload("sts/db-0").is_ok());
        assert!(check_workload("web").is_err());
        assert!(check_workload("pod/web").is_err());
        assert!(check_workload("service/web").is_err());
        assert!(check_workload("deployment/Web").is_err());
    }
}
