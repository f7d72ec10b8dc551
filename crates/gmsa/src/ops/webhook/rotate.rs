//! `rotate-certs`: a new serving certificate (and with `new_ca` a new CA), then restart the
//! Deployment; the old CA leaves the bundle once the pods serve the new certificate.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::tls_plan::{plan_tls, CertificateSummary, Renew, DAY, RENEW_WITHIN_DAYS};
use crate::cluster::access::Permission;
use crate::cluster::apply::{apply_all, require, ApplyOptions};
use crate::cluster::error::forbidden_read;
use crate::cluster::object::{get_many, merge_patch};
use crate::cluster::tls::{self};
use crate::cluster::wait::{wait_ready, Readiness};
use crate::cluster::webhook::{
    self as manifests, is_instance, Names, TlsSource, CERT_MANAGER_INJECT, CERT_SERIAL_ANNOTATION,
};
use crate::cluster::{self, Cluster, DryRun, ObjectRef, Target};
use crate::error::{Error, ErrorKind, Result};
use crate::outcome::{Action, ObjectOutcome};
use crate::progress::Reporter;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct RotateCertsRequest {
    pub target: Target,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// Make a new CA too (the CA bundle holds old and new until the pods serve the new one).
    pub new_ca: bool,
    pub cert_validity_days: u64,
    pub wait: bool,
    pub timeout_secs: u64,
}

impl Default for RotateCertsRequest {
    fn default() -> Self {
        RotateCertsRequest {
            target: Target::default(),
            name: None,
            namespace: None,
            new_ca: false,
            cert_validity_days: 365,
            wait: true,
            timeout_secs: 300,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RotateCertsOutcome {
    pub objects: Vec<ObjectOutcome>,
    pub certificate: CertificateSummary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<Readiness>,
    /// With a new CA: whether the old CA was dropped from the bundle (only after a wait).
    pub old_ca_dropped: bool,
}

/// Set the CA bundle of every webhook in a configuration.
async fn set_ca_bundle(
    cluster: &Cluster,
    r: &ObjectRef,
    current: &Value,
    bundle: &str,
) -> Result<()> {
    let mut hooks = current["webhooks"].clone();
    for h in hooks.as_array_mut().into_iter().flatten() {
        h["clientConfig"]["caBundle"] =
            serde_json::to_value(k8s_openapi::ByteString(bundle.as_bytes().to_vec()))
                .expect("serializes");
    }
    let patch = json!({ "metadata": { "resourceVersion": current["metadata"]["resourceVersion"] }, "webhooks": hooks });
    merge_patch(cluster, r, &patch).await
}

/// New serving certificate (and with `new_ca` a new CA), then restart the Deployment.
pub async fn rotate_certs(
    req: &RotateCertsRequest,
    reporter: &dyn Reporter,
) -> Result<RotateCertsOutcome> {
    let names = Names::checked(req.name.as_deref(), req.namespace.as_deref())?;
    if req.cert_validity_days as i64 <= RENEW_WITHIN_DAYS || req.cert_validity_days > 3650 {
        return Err(Error::invalid(format!(
            "invalid certificate validity of {} days: it must be {} to 3650 days",
            req.cert_validity_days,
            RENEW_WITHIN_DAYS + 1
        )));
    }
    let cluster = cluster::connect(&req.target).await?;
    reporter.step("reading the webhook's objects");
    let c = &cluster.client;
    let refs = [
        names.ca_secret_ref(),
        names.tls_secret_ref(),
        names.deployment(),
        names.mutating(),
        names.validating(),
    ];
    let [ca_secret, tls_secret, deploy, mutating, validating]: [Option<Value>; 5] =
        get_many(&cluster, &refs)
            .await
            .map_err(forbidden_read)?
            .try_into()
            .expect("five answers");
    let (Some(deploy), Some(mutating), Some(validating)) = (deploy, mutating, validating) else {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!(
                "failed to rotate certificates: no webhook named {} is installed in namespace {}",
                names.name, names.namespace
            ),
        )
        .with_hint(
            "install it with `kubectl gmsa install-webhook` (with the same --name and --namespace)",
        ));
    };
    if mutating["metadata"]["annotations"][CERT_MANAGER_INJECT].is_string() {
        return Err(Error::invalid(
            "failed to rotate certificates: cert-manager manages this webhook's certificates",
        )
        .with_hint(format!(
            "ask cert-manager to renew certificate/{} in namespace {}",
            names.name, names.namespace
        )));
    }
    if ![&deploy, &mutating, &validating]
        .iter()
        .all(|o| is_instance(o, &names.name))
    {
        return Err(Error::new(
            ErrorKind::Conflict,
            "failed to rotate certificates: the webhook's objects were not made by kubectl-gmsa",
        ));
    }
    let perms = vec![
        Permission::new(
            "patch",
            "apps",
            "deployments",
            Some(&names.namespace),
            Some(&names.name),
        ),
        Permission::new(
            "patch",
            "admissionregistration.k8s.io",
            "mutatingwebhookconfigurations",
            None,
            Some(&names.name),
        ),
        Permission::new(
            "patch",
            "admissionregistration.k8s.io",
            "validatingwebhookconfigurations",
            None,
            Some(&names.name),
        ),
    ];
    reporter.step("checking permissions");
    require(&cluster, &perms).await?;

    let validity = Duration::from_secs(req.cert_validity_days * DAY);
    let (tls, certificate) = plan_tls(
        &names,
        ca_secret.as_ref(),
        tls_secret.as_ref(),
        validity,
        Renew {
            serving: true,
            ca: req.new_ca,
        },
    )?;
    let TlsSource::Generated {
        ca,
        ca_bundle,
        serving,
    } = tls
    else {
        unreachable!("plan_tls makes certificates")
    };

    // 1. Trust the new CA before anything serves a certificate from it.
    let mut objects = vec![];
    if req.new_ca {
        reporter.step("adding the new CA to the webhook configurations");
        set_ca_bundle(&cluster, &names.mutating(), &mutating, &ca_bundle).await?;
        set_ca_bundle(&cluster, &names.validating(), &validating, &ca_bundle).await?;
        for r in [names.mutating(), names.validating()] {
            objects.push(ObjectOutcome {
                action: Action::Configured,
                reason: Some("trusts the old and the new CA".into()),
                ..ObjectOutcome::skipped(&r, "")
            });
        }
    }
    // 2. The new certificate.
    let opts = ApplyOptions {
        overwrite: true,
        dry_run: DryRun::None,
    };
    objects.extend(
        apply_all(
            Some(&cluster),
            manifests::tls_secrets(&names, &ca, &ca_bundle, &serving),
            &opts,
            async { Ok(()) },
            reporter,
        )
        .await?,
    );
    // 3. Restart the pods so they load it.
    reporter.step(&format!("restarting deployment/{}", names.name));
    let patch = json!({ "spec": { "template": { "metadata": { "annotations": { CERT_SERIAL_ANNOTATION: certificate.serial } } } } });
    merge_patch(&cluster, &names.deployment(), &patch).await?;
    objects.push(ObjectOutcome {
        action: Action::Configured,
        reason: Some("restarted".into()),
        ..ObjectOutcome::skipped(&names.deployment(), "")
    });

    let mut ready = None;
    let mut old_ca_dropped = false;
    if req.wait {
        ready = Some(
            wait_ready(
                &cluster,
                &names,
                Duration::from_secs(req.timeout_secs),
                reporter,
            )
            .await?,
        );
        // 4. Every pod serves the new certificate: stop trusting the old CA.
        let only_new = tls::bundle(&[&ca.cert_pem]);
        if only_new != ca_bundle {
            reporter.step("dropping the old CA from the webhook configurations");
            for r in [names.mutating(), names.validating()] {
                let current = cluster::get(c, &r).await?.unwrap_or_default();
                set_ca_bundle(&cluster, &r, &current, &only_new).await?;
            }
            apply_all(
                Some(&cluster),
                manifests::tls_secrets(&names, &ca, &only_new, &serving),
                &opts,
                async { Ok(()) },
                reporter,
            )
            .await?;
            old_ca_dropped = true;
        }
    }
    Ok(RotateCertsOutcome {
        objects,
        certificate,
        ready,
        old_ca_dropped,
    })
}
