//! A first install cannot block pods: when `Fail` is asked for but the webhook is not known
//! to answer yet, install-webhook writes the configurations with `Ignore`, and switches them
//! to `Fail` only once the webhook answers the API server. This file decides when to start
//! at `Ignore` and asks the API server whether the webhook answers.
//!
//! The check: a server-side dry-run create of a pod in a namespace the webhook sees
//! (`default`), naming a credential spec that does not exist. The API server calls the
//! webhooks for dry runs too (they declare `sideEffects: None`); a webhook that answers
//! refuses the pod ("cannot retrieve" the spec), so the refusal names our webhook. While the
//! webhook cannot be reached, `Ignore` lets the dry run through. Nothing is stored either way.
//! With several installs on one cluster (different --name), any of them may be the one that
//! answers: they all carry the same webhook name.

use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, PostParams};
use serde_json::{json, Value};

use crate::cluster::object::ObjectRef;
use crate::cluster::wait::rollout_done;
use crate::cluster::webhook::{owner_namespace, FailurePolicy, Names, VALIDATING_WEBHOOK_NAME};
use crate::cluster::{self, Cluster};
use crate::error::{Error, ErrorKind, Result};
use crate::progress::Reporter;

/// The name of the credential spec the probe pod asks for (it never exists).
pub const PROBE_CREDSPEC_PREFIX: &str = "kubectl-gmsa-probe";

/// Is it safe to write `Fail` straight away? Only when the Deployment is ready and either the
/// server scopes the webhook to gMSA pods (`matchConditions`, 1.28+) or this install's
/// validating configuration already enforces `Fail` (an upgrade of a working install).
pub fn enforce_now(
    names: &Names,
    has_match_conditions: bool,
    deployment: Option<&Value>,
    validating: Option<&Value>,
) -> bool {
    let ready = deployment.is_some_and(|d| rollout_done(d).0);
    let enforcing = validating.is_some_and(|v| {
        owner_namespace(v).as_deref() == Some(names.namespace.as_str())
            && v["webhooks"][0]["failurePolicy"] == "Fail"
    });
    ready && (has_match_conditions || enforcing)
}

/// Set every webhook of a configuration to `policy`.
pub fn set_policy(config: &mut Value, policy: FailurePolicy) {
    if let Some(hooks) = config["webhooks"].as_array_mut() {
        for h in hooks {
            h["failurePolicy"] = json!(policy.as_str());
        }
    }
}

fn probe_namespace(names: &Names) -> &'static str {
    // The webhook never sees its own namespace.
    if names.namespace == "default" {
        "kube-public"
    } else {
        "default"
    }
}

/// One check: `Ok(true)` when the webhook answered the API server.
pub async fn webhook_answers(cluster: &Cluster, names: &Names) -> Result<bool> {
    let ns = probe_namespace(names);
    let pods: Api<DynamicObject> = ObjectRef {
        api_version: "v1".into(),
        kind: "Pod".into(),
        plural: "pods".into(),
        namespace: Some(ns.into()),
        name: String::new(),
    }
    .api(&cluster.client);
    let pod: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "generateName": format!("{PROBE_CREDSPEC_PREFIX}-"), "namespace": ns },
        "spec": {
            "automountServiceAccountToken": false,
            "securityContext": { "windowsOptions": {
                "gmsaCredentialSpecName": format!("{PROBE_CREDSPEC_PREFIX}-{}", names.name)
            } },
            "nodeSelector": { "kubernetes.io/os": "windows" },
            "containers": [{ "name": "probe", "image": "mcr.microsoft.com/oss/kubernetes/pause:3.9" }]
        }
    }))
    .expect("a pod");
    let pp = PostParams {
        dry_run: true,
        field_manager: None,
    };
    match pods.create(&pp, &pod).await {
        // Admitted: the webhook was not reached (Ignore let it through).
        Ok(_) => Ok(false),
        Err(kube::Error::Api(s))
            if s.message
                .contains(&format!("admission webhook \"{VALIDATING_WEBHOOK_NAME}\"")) =>
        {
            Ok(!s.message.contains("failed calling webhook"))
        }
        Err(e) => Err(cluster::classify(e).context(format_args!(
            "check through the API server whether the webhook answers (a dry-run pod create in namespace {ns})"
        ))),
    }
}

/// Ask until the webhook answers or `deadline` passes.
pub async fn wait_answers(
    cluster: &Cluster,
    names: &Names,
    deadline: Instant,
    reporter: &dyn Reporter,
) -> Result<bool> {
    reporter.step("checking that the webhook answers the API server");
    loop {
        if webhook_answers(cluster, names).await? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(left.min(Duration::from_secs(1))).await;
    }
}

/// What to say (and do) while the configurations stay at `Ignore`.
pub fn still_ignoring(names: &Names) -> String {
    format!(
        "the webhook configurations stay at failurePolicy Ignore: pods are admitted without the webhook's gMSA checks until it answers. Once `kubectl -n {} get deployment {}` is ready, re-run install-webhook (same flags) to switch them to Fail",
        names.namespace, names.name
    )
}

/// A timeout error that also says the configurations were left at `Ignore`.
pub fn timed_out_ignoring(mut e: Error, names: &Names) -> Error {
    e.message = format!("{}\n{}", e.message.trim_end(), still_ignoring(names));
    e.kind = ErrorKind::Timeout;
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready() -> Value {
        json!({ "metadata": { "generation": 1 }, "spec": { "replicas": 1 },
                "status": { "observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1 } })
    }
    fn validating(ns: &str, policy: &str) -> Value {
        json!({ "kind": "ValidatingWebhookConfiguration",
                "metadata": { "annotations": { crate::cluster::webhook::OWNER_ANNOTATION: format!("{ns}/wh") } },
                "webhooks": [{ "failurePolicy": policy }] })
    }

    #[test]
    fn fail_is_written_only_when_the_webhook_is_known_to_answer() {
        let n = Names::new("wh", "ns");
        // First install: never straight to Fail.
        assert!(!enforce_now(&n, true, None, None));
        assert!(!enforce_now(&n, false, None, None));
        // Not ready: never.
        let not_ready = json!({ "spec": { "replicas": 1 }, "status": {} });
        assert!(!enforce_now(
            &n,
            true,
            Some(&not_ready),
            Some(&validating("ns", "Fail"))
        ));
        // Ready on 1.28+: yes.
        assert!(enforce_now(&n, true, Some(&ready()), None));
        // Ready before 1.28: only when it already enforces Fail here.
        assert!(!enforce_now(&n, false, Some(&ready()), None));
        assert!(!enforce_now(
            &n,
            false,
            Some(&ready()),
            Some(&validating("ns", "Ignore"))
        ));
        assert!(!enforce_now(
            &n,
            false,
            Some(&ready()),
            Some(&validating("other", "Fail"))
        ));
        assert!(enforce_now(
            &n,
            false,
            Some(&ready()),
            Some(&validating("ns", "Fail"))
        ));
    }

    #[test]
    fn set_policy_changes_every_webhook() {
        let mut c =
            json!({ "webhooks": [{ "failurePolicy": "Fail" }, { "failurePolicy": "Fail" }] });
        set_policy(&mut c, FailurePolicy::Ignore);
        assert_eq!(c["webhooks"][1]["failurePolicy"], "Ignore");
    }
}
