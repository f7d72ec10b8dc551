//! `add-credspec`: the resource, a ClusterRole that may `use` it, and RoleBindings; and the
//! host-account settings of hosts that are not domain joined.

use kube::api::ListParams;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::source::{resource_name, CredspecSource};
use crate::cluster::apply::{apply_all, ApplyOptions};
use crate::cluster::client::{connect_for, namespace_for};
use crate::cluster::objects::{self, service_accounts};
use crate::cluster::{self, Cluster, DryRun, ObjectRef, Target};
use crate::credspec::{self, CcgPlugin, CredentialSpec, Finding, HostAccountConfig};
use crate::error::{Error, ErrorKind, Result};
use crate::names;
use crate::outcome::ApplyOutcome;
use crate::progress::Reporter;

/// For hosts that are not domain joined: the ccg.exe plug-in and the domain-user secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct HostAccountRequest {
    /// Name of the Secret holding the domain user (`domain`, `username`, `password`).
    pub secret_name: String,
    /// Namespace of that Secret; default `default`.
    pub secret_namespace: Option<String>,
    /// A known plug-in; default `rancher` (which reads that Secret) unless `plugin_guid` is given.
    pub ccg_plugin: Option<CcgPlugin>,
    /// Any other plug-in's CLSID.
    pub plugin_guid: Option<String>,
    /// The plug-in's input; default for `rancher`: `<secret-namespace>:<secret-name>`.
    pub plugin_input: Option<String>,
}

impl HostAccountRequest {
    /// The `HostAccountConfig` these settings describe.
    pub fn host_account_config(&self) -> Result<HostAccountConfig> {
        names::check_subdomain(&self.secret_name)
            .map_err(|m| Error::invalid(format!("invalid secret name: {m}")))?;
        let ns = self
            .secret_namespace
            .as_deref()
            .unwrap_or(objects::DEFAULT_SECRET_NAMESPACE);
        names::check_namespace(ns)?;
        credspec::host_account_config(
            self.ccg_plugin,
            self.plugin_guid.as_deref(),
            self.plugin_input.as_deref(),
            Some(format!("{ns}:{}", self.secret_name)),
        )
    }
}

/// `add-credspec`: the resource, a ClusterRole that may `use` it, and RoleBindings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct AddCredspecRequest {
    pub target: Target,
    pub source: CredspecSource,
    /// Resource name; default derived from the account.
    pub credspec_name: Option<String>,
    /// Default `<credspec-name>-gmsa-user`.
    pub cluster_role_name: Option<String>,
    /// `name` (in `namespace`) or `namespace:name`; default `default`.
    pub service_accounts: Vec<String>,
    /// Namespace of the service accounts; default the kubeconfig context's.
    pub namespace: Option<String>,
    pub host_account: Option<HostAccountRequest>,
    pub overwrite: bool,
    pub dry_run: DryRun,
}

/// The validated plan of an `add-credspec`.
struct AddPlan {
    objects: Vec<(ObjectRef, Value)>,
    findings: Vec<Finding>,
}

/// `loaded`: the spec and its findings, read once (a pipe cannot be read twice).
fn plan_add(
    req: &AddCredspecRequest,
    loaded: (CredentialSpec, Vec<Finding>),
    namespace: &str,
) -> Result<AddPlan> {
    let (mut spec, mut findings) = loaded;
    if let Some(h) = &req.host_account {
        spec.active_directory_config.host_account_config = Some(h.host_account_config()?);
        let checked = credspec::check_value(&serde_json::to_value(&spec).expect("serializes"));
        let (s, f) = credspec::into_spec(checked, "with HostAccountConfig")?;
        spec = s;
        findings = f;
    }
    let name = resource_name(req.credspec_name.as_deref(), &spec)?;
    let role = req
        .cluster_role_name
        .clone()
        .unwrap_or_else(|| objects::default_cluster_role(&name));
    objects::check_rbac_name("cluster role", &role)?;
    let sas = service_accounts(&req.service_accounts, namespace)?;
    let mut objs = vec![
        (
            objects::credspec_ref(&name),
            objects::credspec_resource(&name, &spec),
        ),
        (
            objects::cluster_role_ref(&role),
            objects::cluster_role(&role, &name),
        ),
    ];
    for sa in &sas {
        objects::check_rbac_name("role binding", &objects::role_binding_name(&role, sa))?;
        objs.push((
            objects::role_binding_ref(&role, sa),
            objects::role_binding(&role, &name, sa),
        ));
    }
    Ok(AddPlan {
        objects: objs,
        findings,
    })
}

/// Fail with a pointer to `install-webhook` when the cluster does not serve the CRD.
async fn require_crd(cluster: &Cluster) -> Result<()> {
    let api = objects::credspecs_api(&cluster.client);
    match api.list_metadata(&ListParams::default().limit(1)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Err(Error::new(
            ErrorKind::NotFound,
            format!(
                "the cluster at {} does not serve GMSACredentialSpec (the CRD {} is not installed)",
                cluster.server,
                credspec::CRD_NAME
            ),
        )
        .with_hint("install it with `kubectl gmsa install-webhook`")),
        // Listing may be forbidden while writing is allowed: the permission check decides.
        Err(kube::Error::Api(s)) if s.code == 403 => Ok(()),
        Err(e) => Err(cluster::classify(e)
            .context(format_args!("reach the API server at {}", cluster.server))),
    }
}

/// Add a credential spec and let service accounts use it.
pub async fn add_credspec(
    req: &AddCredspecRequest,
    reporter: &dyn Reporter,
) -> Result<ApplyOutcome> {
    // Validate everything that needs no cluster first. The source is read once: it may be
    // standard input or a pipe.
    let loaded = req.source.load()?;
    let cluster = connect_for(&req.target, req.dry_run).await?;
    let namespace = namespace_for(&req.target, req.namespace.as_deref(), cluster.as_ref()).await?;
    let plan = plan_add(req, loaded, &namespace)?;
    let opts = ApplyOptions {
        overwrite: req.overwrite,
        dry_run: req.dry_run,
    };
    let crd = async {
        match &cluster {
            Some(c) => require_crd(c).await,
            None => Ok(()),
        }
    };
    let objects = apply_all(cluster.as_ref(), plan.objects, &opts, crd, reporter).await?;
    Ok(ApplyOutcome {
        dry_run: req.dry_run,
        objects,
        findings: plan.findings,
    })
}
