//! The apply engine. Every write follows the same plan (`apply_all`): validate everything,
//! read what exists, check permissions (SelfSubjectAccessReview), refuse differing objects
//! unless told to overwrite, then server-side apply in waves, deleting what this run created
//! if a later write fails. Deletes check every permission first, then go in waves.

use futures::future::{join_all, try_join_all};
use serde_json::Value;

use super::access::{may_i, Permission};
use super::client::Cluster;
use super::error::forbidden_read;
use super::object::{apply, delete, differences, get, is_ours, take_over, ObjectRef};
use crate::error::{Error, ErrorKind, Result};
use crate::outcome::{Action, DryRun, ObjectOutcome};
use crate::progress::Reporter;

/// Options of one `apply_all`.
pub struct ApplyOptions {
    pub overwrite: bool,
    pub dry_run: DryRun,
}

/// Check that every permission is granted; the error lists all that are not.
pub async fn require(cluster: &Cluster, perms: &[Permission]) -> Result<()> {
    let answers = try_join_all(perms.iter().map(|p| may_i(&cluster.client, p))).await?;
    let denied: Vec<String> = perms
        .iter()
        .zip(answers)
        .filter(|(_, ok)| !ok)
        .map(|(p, _)| format!("  {}", p.describe()))
        .collect();
    if denied.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Forbidden,
        format!(
            "the identity of this kubeconfig context may not do everything this needs; nothing was changed. Denied:\n{}",
            denied.join("\n")
        ),
    )
    .with_hint("ask a cluster administrator for these permissions, or use a --context with them"))
}

/// Apply a set of objects in order, as one intent (see the module documentation).
pub async fn apply_all(
    cluster: Option<&Cluster>,
    objects: Vec<(ObjectRef, Value)>,
    opts: &ApplyOptions,
    precheck: impl std::future::Future<Output = Result<()>>,
    reporter: &dyn Reporter,
) -> Result<Vec<ObjectOutcome>> {
    let Some(cluster) = cluster else {
        // Client-side dry run: render only.
        return Ok(objects
            .into_iter()
            .map(|(r, v)| ObjectOutcome::new(&r, Action::Created, Some(v)))
            .collect());
    };
    let client = &cluster.client;
    reporter.step("reading existing objects");
    let (checked, existing) = tokio::join!(
        precheck,
        try_join_all(objects.iter().map(|(r, _)| get(client, r)))
    );
    checked?;
    let existing = existing.map_err(forbidden_read)?;

    // Decide, per object, what must happen; collect conflicts and permissions.
    let mut actions = vec![];
    let mut conflicts = vec![];
    let mut perms = vec![];
    for ((r, desired), before) in objects.iter().zip(&existing) {
        let perm = |verb: &str| {
            Permission::new(
                verb,
                r.group(),
                &r.plural,
                r.namespace.as_deref(),
                Some(&r.name),
            )
        };
        let action = match before {
            None => {
                perms.push(perm("create"));
                perms.push(perm("patch"));
                Action::Created
            }
            Some(obj) => {
                let diffs = differences(obj, desired);
                if diffs.is_empty() && is_ours(obj) {
                    Action::Unchanged
                } else {
                    if !opts.overwrite {
                        if !is_ours(obj) {
                            conflicts.push(format!(
                                "  {} exists and is not managed by kubectl-gmsa",
                                r.display()
                            ));
                        } else {
                            conflicts.push(format!(
                                "  {} differs at {}",
                                r.display(),
                                diffs.join(", ")
                            ));
                        }
                    }
                    if r.kind == "RoleBinding"
                        && !differences(&obj["roleRef"], &desired["roleRef"]).is_empty()
                    {
                        return Err(Error::new(
                            ErrorKind::Conflict,
                            format!("{} exists and refers to another role ({}); a binding's roleRef cannot change", r.display(), obj["roleRef"]["name"].as_str().unwrap_or("?")),
                        )
                        .with_hint("delete that binding or choose another --cluster-role-name"));
                    }
                    perms.push(perm("patch"));
                    Action::Configured
                }
            }
        };
        actions.push(action);
    }
    if !conflicts.is_empty() {
        return Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "existing objects differ from what this would write; nothing was changed:\n{}",
                conflicts.join("\n")
            ),
        )
        .with_hint("pass --overwrite to replace them"));
    }
    if !perms.is_empty() {
        reporter.step("checking permissions");
        require(cluster, &perms).await?;
    }

    // Writes in waves: what others live in (namespaces, CRDs) first, webhook registrations
    // last, everything else at once in between.
    let server_dry_run = opts.dry_run == DryRun::Server;
    let pending: Vec<usize> = (0..objects.len())
        .filter(|&i| actions[i] != Action::Unchanged)
        .collect();
    if !pending.is_empty() {
        reporter.step(&format!(
            "applying {} object{}",
            pending.len(),
            if pending.len() == 1 { "" } else { "s" }
        ));
    }
    let mut results: Vec<(usize, Result<Value>)> = vec![];
    for wave in 0..3 {
        let in_wave: Vec<usize> = pending
            .iter()
            .copied()
            .filter(|&i| wave_of(&objects[i].0.kind) == wave)
            .collect();
        if in_wave.is_empty() {
            continue;
        }
        let names: Vec<String> = in_wave.iter().map(|&i| objects[i].0.display()).collect();
        reporter.step(&format!("applying {}", names.join(", ")));
        let done = join_all(in_wave.iter().map(|&i| {
            let (r, desired) = &objects[i];
            let before = &existing[i];
            async move {
                match before {
                    // Another tool's object, taken over: replaced, not merged. Namespaces
                    // and CRDs are shared with what else lives in or uses them: merged.
                    Some(obj)
                        if opts.overwrite
                            && !is_ours(obj)
                            && !matches!(
                                r.kind.as_str(),
                                "Namespace" | "CustomResourceDefinition"
                            ) =>
                    {
                        take_over(client, r, obj, desired, server_dry_run).await
                    }
                    _ => apply(client, r, desired, server_dry_run, opts.overwrite).await,
                }
            }
        }))
        .await;
        let failed = done.iter().any(|r| r.is_err());
        results.extend(in_wave.into_iter().zip(done));
        if failed {
            break;
        }
    }
    let mut applied: Vec<Option<Value>> = vec![None; objects.len()];
    let mut first_error = None;
    for (i, result) in results {
        match result {
            Ok(v) => applied[i] = Some(v),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        if server_dry_run {
            return Err(e);
        }
        let created: Vec<&ObjectRef> = pending
            .iter()
            .filter(|&&i| actions[i] == Action::Created && applied[i].is_some())
            .map(|&i| &objects[i].0)
            .collect();
        let rolled = roll_back(client, &created).await;
        return Err(Error {
            message: format!("{}\n{rolled}", e.message),
            ..e
        });
    }
    let mut outcomes = vec![];
    for (i, (r, _)) in objects.iter().enumerate() {
        let o = match applied[i].take() {
            Some(v) => ObjectOutcome::new(r, actions[i], Some(v)),
            None => ObjectOutcome::new(r, Action::Unchanged, existing[i].clone()),
        };
        reporter.object(&o);
        outcomes.push(o);
    }
    Ok(outcomes)
}

/// The wave an object of this kind is applied in (see `apply_all`).
fn wave_of(kind: &str) -> u8 {
    match kind {
        "Namespace" | "CustomResourceDefinition" => 0,
        "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration" => 2,
        _ => 1,
    }
}

/// Delete the objects this run created; say what was done.
async fn roll_back(client: &kube::Client, created: &[&ObjectRef]) -> String {
    let mut undone = vec![];
    let mut failed = vec![];
    for r in created.iter().rev() {
        match delete(client, r, false).await {
            Ok(_) => undone.push(r.display()),
            Err(e) => failed.push(format!("{} ({})", r.display(), e.message)),
        }
    }
    match (undone.is_empty(), failed.is_empty()) {
        (true, true) => "nothing had been created, so nothing was rolled back".into(),
        (_, true) => format!("rolled back: deleted {}", undone.join(", ")),
        _ => format!(
            "rollback incomplete: could not delete {}; run the same command again to finish, or remove them",
            failed.join(", ")
        ),
    }
}

/// Delete objects (already filtered to ours), after checking every permission first.
pub async fn delete_all(
    cluster: &Cluster,
    objects: Vec<ObjectRef>,
    dry_run: bool,
    reporter: &dyn Reporter,
) -> Result<Vec<ObjectOutcome>> {
    // Consecutive objects of one kind go together; kinds go in the order given.
    let mut waves: Vec<Vec<ObjectRef>> = vec![];
    for r in objects {
        match waves.last_mut() {
            Some(w) if w[0].kind == r.kind => w.push(r),
            _ => waves.push(vec![r]),
        }
    }
    delete_waves(cluster, waves, dry_run, reporter).await
}

/// Delete `waves` one after the other, the objects of a wave at once, after checking with
/// SelfSubjectAccessReview that every delete is allowed (nothing is deleted otherwise).
pub async fn delete_waves(
    cluster: &Cluster,
    waves: Vec<Vec<ObjectRef>>,
    dry_run: bool,
    reporter: &dyn Reporter,
) -> Result<Vec<ObjectOutcome>> {
    let perms: Vec<Permission> = waves
        .iter()
        .flatten()
        .map(|r| {
            Permission::new(
                "delete",
                r.group(),
                &r.plural,
                r.namespace.as_deref(),
                Some(&r.name),
            )
        })
        .collect();
    if !perms.is_empty() {
        reporter.step("checking permissions");
        require(cluster, &perms).await?;
    }
    let mut outcomes = vec![];
    for wave in waves.into_iter().filter(|w| !w.is_empty()) {
        let names: Vec<String> = wave.iter().map(|r| r.display()).collect();
        reporter.step(&format!("deleting {}", names.join(", ")));
        let existed =
            try_join_all(wave.iter().map(|r| delete(&cluster.client, r, dry_run))).await?;
        for (r, existed) in wave.iter().zip(existed) {
            let o = ObjectOutcome::new(
                r,
                if existed {
                    Action::Deleted
                } else {
                    Action::Absent
                },
                None,
            );
            reporter.object(&o);
            outcomes.push(o);
        }
    }
    Ok(outcomes)
}
