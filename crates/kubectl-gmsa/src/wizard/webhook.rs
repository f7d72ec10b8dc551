//! Step 2: the webhook and its CRD, installed and healthy, or offered for install.

use gmsa::cluster::webhook::{FailurePolicy, DEFAULT_NAME, DEFAULT_NAMESPACE};
use gmsa::credspec::{self};
use gmsa::ops::{self, InstallWebhookRequest};
use gmsa::{Error, ErrorKind};

use super::ask::{say, Ask};
use super::plan::WizardArgs;
use crate::args::{ClusterArgs, FailurePolicyArg};

/// Step 2: read the webhook's status (what `kubectl gmsa status` reads) and, when it is
/// missing or unhealthy, offer to install it. Returns the install to run at apply time and
/// the server's version (to render the preview for).
pub(crate) async fn webhook_step(
    ask: &Ask<'_>,
    cluster: &gmsa::cluster::Cluster,
    c: &ClusterArgs,
    a: &WizardArgs,
) -> Result<(Option<InstallWebhookRequest>, Option<String>), Error> {
    let mut name = a.webhook_name.clone();
    let mut ns = a.webhook_namespace.clone();
    let status = ops::status(
        &ops::StatusRequest {
            target: c.target(),
            name: name.clone(),
            namespace: ns.clone(),
        },
        &gmsa::progress::Silent,
    )
    .await;
    // Without --webhook-namespace, status finds the install from its configurations: the
    // wizard then shows (and re-installs) that one, not one in the default namespace.
    if let Ok(s) = &status {
        if ns.is_none() && s.namespace != DEFAULT_NAMESPACE {
            ns = Some(s.namespace.clone());
        }
        if name.is_none() && s.name != DEFAULT_NAME {
            name = Some(s.name.clone());
        }
    }
    let shown_name = name.as_deref().unwrap_or(DEFAULT_NAME);
    let shown_ns = ns.as_deref().unwrap_or(DEFAULT_NAMESPACE);
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
            let crd = gmsa::cluster::wait::crd_served(cluster).await;
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
