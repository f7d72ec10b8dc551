//! `create-secret`: the domain user a ccg plug-in reads the gMSA password with.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cluster::apply::{apply_all, ApplyOptions};
use crate::cluster::client::{connect_for, namespace_for};
use crate::cluster::{DryRun, ObjectRef, Target, MANAGED_BY_LABEL, MANAGER};
use crate::error::{Error, Result};
use crate::names;
use crate::outcome::ApplyOutcome;
use crate::progress::Reporter;

/// The domain user a ccg plug-in uses to read the gMSA password. The password is never
/// serialized back out.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateSecretRequest {
    pub target: Target,
    pub secret_name: String,
    pub namespace: Option<String>,
    pub domain: String,
    pub username: String,
    #[serde(skip_serializing)]
    pub password: String,
    pub overwrite: bool,
    pub dry_run: DryRun,
}

impl std::fmt::Debug for CreateSecretRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateSecretRequest")
            .field("secret_name", &self.secret_name)
            .field("namespace", &self.namespace)
            .field("domain", &self.domain)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Write the domain-user Secret (`domain`, `username`, `password`).
pub async fn create_secret(
    req: &CreateSecretRequest,
    reporter: &dyn Reporter,
) -> Result<ApplyOutcome> {
    names::check_subdomain(&req.secret_name)
        .map_err(|m| Error::invalid(format!("invalid secret name: {m}")))?;
    names::check_dns_domain(&req.domain)
        .map_err(|m| Error::invalid(format!("invalid domain: {m}")))?;
    if req.username.trim().is_empty() {
        return Err(Error::invalid("no domain user name given").with_hint("pass --username"));
    }
    if req.username.contains('\\') || req.username.contains('@') {
        return Err(Error::invalid(format!(
            "the user name \"{}\" has a domain part; pass the domain with --domain and the bare user name",
            req.username
        )));
    }
    if req.password.is_empty() {
        return Err(Error::invalid("the password is empty"));
    }
    let cluster = connect_for(&req.target, req.dry_run).await?;
    let namespace = namespace_for(&req.target, req.namespace.as_deref(), cluster.as_ref()).await?;
    let b64 = |s: &str| {
        serde_json::to_value(k8s_openapi::ByteString(s.as_bytes().to_vec())).expect("serializes")
    };
    let secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": { "name": req.secret_name, "namespace": namespace, "labels": { MANAGED_BY_LABEL: MANAGER } },
        "type": "Opaque",
        "data": { "domain": b64(&req.domain), "username": b64(&req.username), "password": b64(&req.password) }
    });
    let r = ObjectRef::of(&secret, "secrets");
    let opts = ApplyOptions {
        overwrite: req.overwrite,
        dry_run: req.dry_run,
    };
    let objects = apply_all(
        cluster.as_ref(),
        vec![(r, secret)],
        &opts,
        async { Ok(()) },
        reporter,
    )
    .await?;
    Ok(ApplyOutcome {
        dry_run: req.dry_run,
        objects,
        findings: vec![],
    })
}
