//! Credential spec operations: lint, convert, add / remove, bind / unbind, get, and the
//! domain-user secret of non-domain-joined hosts.

use std::collections::BTreeMap;
use std::path::PathBuf;

use futures::future::try_join_all;
use kube::api::ListParams;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{
    apply_all, connect_for, delete_all, delete_waves, namespace_for, ApplyOptions, ApplyOutcome,
    ObjectOutcome,
};
use crate::cluster::objects::{self, ServiceAccountRef};
use crate::cluster::{
    self, access, is_ours, Cluster, DryRun, ObjectRef, Target, MANAGED_BY_LABEL, MANAGER,
};
use crate::credspec::{self, CcgPlugin, CredentialSpec, Finding, HostAccountConfig};
use crate::error::{Error, ErrorKind, Result};
use crate::names;
use crate::progress::Reporter;

/// Where a credential spec comes from: a file, or the JSON document itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CredspecSource {
    /// Path of a credential spec JSON file.
    pub credspec_file: Option<PathBuf>,
    /// The credential spec document itself (instead of a file).
    pub credspec: Option<Value>,
}

impl CredspecSource {
    fn describe(&self) -> String {
        match &self.credspec_file {
            Some(p) => p.display().to_string(),
            None => "given".into(),
        }
    }

    /// Read and lint; errors list every lint error.
    pub fn load(&self) -> Result<(CredentialSpec, Vec<Finding>)> {
        match (&self.credspec_file, &self.credspec) {
            (Some(_), Some(_)) => Err(Error::invalid(
                "give either a credential spec file or a credential spec, not both",
            )),
            (None, None) => {
                Err(Error::invalid("no credential spec given")
                    .with_hint("pass --credspec-file PATH"))
            }
            (Some(path), None) => credspec::load_file(path),
            (None, Some(value)) => {
                // Accept the document as a JSON string too (what a C or PowerShell caller may hold).
                let value = match value {
                    Value::String(text) => credspec::model::parse_value(text)?,
                    v => v.clone(),
                };
                credspec::into_spec(credspec::check_value(&value), &self.describe())
            }
        }
    }
}

// ---------------------------------------------------------------- lint

/// Lint credential spec text (or a file).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LintRequest {
    pub source: CredspecSource,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LintOutcome {
    pub findings: Vec<Finding>,
    pub errors: usize,
    pub warnings: usize,
}

/// Lint one credential spec. Only unreadable input (no file, not JSON) is an `Err`; rule
/// violations are findings.
pub fn lint(req: &LintRequest) -> Result<LintOutcome> {
    let checked = match (&req.source.credspec_file, &req.source.credspec) {
        (Some(path), None) => credspec::check_file(path)?,
        (None, Some(Value::String(text))) => credspec::check_text(text)?,
        (None, Some(v)) => credspec::check_value(v),
        _ => {
            return Err(Error::invalid(
                "give exactly one of a credential spec file or a credential spec",
            ))
        }
    };
    let errors = checked
        .findings
        .iter()
        .filter(|f| f.severity == credspec::Severity::Error)
        .count();
    Ok(LintOutcome {
        warnings: checked.findings.len() - errors,
        errors,
        findings: checked.findings,
    })
}

// ---------------------------------------------------------------- convert

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConvertRequest {
    pub source: CredspecSource,
    /// Resource name; default derived from the account (lower case, `_` to `-`).
    pub credspec_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvertOutcome {
    pub resource: Value,
    pub findings: Vec<Finding>,
}

/// The `GMSACredentialSpec` resource for a credential spec (no cluster involved).
pub fn convert(req: &ConvertRequest) -> Result<ConvertOutcome> {
    let (spec, findings) = req.source.load()?;
    let name = resource_name(req.credspec_name.as_deref(), &spec)?;
    Ok(ConvertOutcome {
        resource: credspec::to_resource(&name, &spec, &[]),
        findings,
    })
}

fn resource_name(given: Option<&str>, spec: &CredentialSpec) -> Result<String> {
    let name = match given {
        Some(n) => n.to_owned(),
        None => names::resource_name_from_account(spec.account()),
    };
    names::check_resource_name("credential spec", &name)?;
    Ok(name)
}

pub(crate) fn default_cluster_role(credspec_name: &str) -> String {
    format!("{credspec_name}-gmsa-user")
}

// ---------------------------------------------------------------- add-credspec

/// For hosts that are not domain joined: the ccg.exe plug-in and the domain-user secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
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
        let ns = self.secret_namespace.as_deref().unwrap_or("default");
        names::check_namespace(ns)?;
        let (guid, plugin) = match (&self.plugin_guid, self.ccg_plugin) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "give either a ccg plug-in name or a plug-in GUID, not both",
                ))
            }
            (Some(g), None) => {
                names::parse_guid(g)
                    .map_err(|m| Error::invalid(format!("invalid plug-in GUID: {m}")))?;
                let g = g
                    .trim_start_matches('{')
                    .trim_end_matches('}')
                    .to_uppercase();
                (format!("{{{g}}}"), CcgPlugin::from_guid(&g))
            }
            (None, p) => {
                let p = p.unwrap_or(CcgPlugin::Rancher);
                (p.guid().to_owned(), Some(p))
            }
        };
        let input = match (&self.plugin_input, plugin) {
            (Some(i), _) => i.clone(),
            (None, Some(CcgPlugin::Rancher)) => format!("{ns}:{}", self.secret_name),
            (None, _) => {
                return Err(Error::invalid("this ccg plug-in needs its input").with_hint(
                    "pass --plugin-input (Azure Key Vault: \"ObjectId=<id>;SecretUri=<uri>\"; AWS: '{\"credentialArn\": \"arn:...\"}')",
                ))
            }
        };
        Ok(HostAccountConfig {
            portable_ccg_version: "1".into(),
            plugin_guid: guid,
            plugin_input: input,
        })
    }
}

/// `add-credspec`: the resource, a ClusterRole that may `use` it, and RoleBindings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
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

fn plan_add(req: &AddCredspecRequest, namespace: &str) -> Result<AddPlan> {
    let (mut spec, mut findings) = req.source.load()?;
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
        .unwrap_or_else(|| default_cluster_role(&name));
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

fn service_accounts(given: &[String], namespace: &str) -> Result<Vec<ServiceAccountRef>> {
    let list: Vec<String> = if given.is_empty() {
        vec!["default".into()]
    } else {
        given.to_vec()
    };
    let mut out: Vec<ServiceAccountRef> = vec![];
    for s in &list {
        let sa = ServiceAccountRef::parse(s, namespace)?;
        if !out.contains(&sa) {
            out.push(sa);
        }
    }
    Ok(out)
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
    // Validate everything that needs no cluster first.
    req.source.load()?;
    let cluster = connect_for(&req.target, req.dry_run).await?;
    let namespace = namespace_for(&req.target, req.namespace.as_deref(), cluster.as_ref()).await?;
    let plan = plan_add(req, &namespace)?;
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

// ---------------------------------------------------------------- remove-credspec

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RemoveCredspecRequest {
    pub target: Target,
    pub credspec_name: String,
    /// Default `<credspec-name>-gmsa-user`.
    pub cluster_role_name: Option<String>,
    /// Service accounts whose bindings to remove; bindings of ours to the cluster role in
    /// other namespaces are found and removed as well.
    pub service_accounts: Vec<String>,
    pub namespace: Option<String>,
    pub dry_run: DryRun,
}

/// Remove what `add-credspec` made (objects labelled as ours) and nothing else.
pub async fn remove_credspec(
    req: &RemoveCredspecRequest,
    reporter: &dyn Reporter,
) -> Result<ApplyOutcome> {
    names::check_resource_name("credential spec", &req.credspec_name)?;
    let role = req
        .cluster_role_name
        .clone()
        .unwrap_or_else(|| default_cluster_role(&req.credspec_name));
    objects::check_rbac_name("cluster role", &role)?;
    if req.dry_run == DryRun::Client {
        return Err(Error::invalid(
            "--dry-run=client is not available for removals; use --dry-run=server",
        ));
    }
    let cluster = cluster::connect(&req.target).await?;
    let namespace = namespace_for(&req.target, req.namespace.as_deref(), Some(&cluster)).await?;
    let sas = service_accounts(&req.service_accounts, &namespace)?;

    reporter.step("finding the objects add-credspec made");
    // The objects add-credspec names, read while our other bindings of the role are listed.
    let mut candidates: Vec<ObjectRef> = sas
        .iter()
        .map(|sa| objects::role_binding_ref(&role, sa))
        .collect();
    candidates.push(objects::cluster_role_ref(&role));
    candidates.push(objects::credspec_ref(&req.credspec_name));
    let (listed, found) = tokio::join!(
        our_bindings_to(&cluster, &role),
        try_join_all(candidates.iter().map(|r| cluster::get(&cluster.client, r)))
    );
    let mut found = found?;
    let more: Vec<ObjectRef> = listed?
        .into_iter()
        .filter(|b| !candidates.contains(b))
        .collect();
    found.extend(try_join_all(more.iter().map(|r| cluster::get(&cluster.client, r))).await?);
    candidates.extend(more);
    let mut to_delete = vec![];
    let mut skipped = vec![];
    for (r, obj) in candidates.into_iter().zip(found) {
        match obj {
            None => {}
            Some(o) if !is_ours(&o) => {
                skipped.push(skip(&r, "not managed by kubectl-gmsa; left in place"))
            }
            Some(o)
                if r.kind == "RoleBinding"
                    && o["roleRef"]["name"].as_str() != Some(role.as_str()) =>
            {
                skipped.push(skip(&r, "binds another role; left in place"))
            }
            Some(_) => to_delete.push(r),
        }
    }
    if to_delete.is_empty() && skipped.is_empty() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("nothing to remove: no credential spec {} or cluster role {role} made by kubectl-gmsa", req.credspec_name),
        )
        .with_hint("`kubectl gmsa get` lists the credential specs"));
    }
    // All at once: each object is only ours, and a re-run removes whatever a failure left.
    let mut objects = delete_waves(
        &cluster,
        vec![to_delete],
        req.dry_run == DryRun::Server,
        reporter,
    )
    .await?;
    objects.extend(skipped);
    Ok(ApplyOutcome {
        dry_run: req.dry_run,
        objects,
        findings: vec![],
    })
}

fn skip(r: &ObjectRef, reason: &str) -> ObjectOutcome {
    let mut o = ObjectOutcome::new(r, super::Action::Skipped, None);
    o.reason = Some(reason.into());
    o
}

/// Our RoleBindings (any namespace) that bind `role`. Empty when listing is not allowed.
async fn our_bindings_to(cluster: &Cluster, role: &str) -> Result<Vec<ObjectRef>> {
    let mut out = vec![];
    let selector = match objects::role_label_value(role) {
        Some(v) => format!("{},{}={v}", our_selector(), objects::CLUSTER_ROLE_LABEL),
        None => our_selector(),
    };
    let result = list_all(
        cluster,
        objects::RBAC,
        "RoleBinding",
        "rolebindings",
        Some(&selector),
        None,
        |b: &Value| {
            if b["roleRef"]["kind"] == "ClusterRole" && b["roleRef"]["name"].as_str() == Some(role)
            {
                out.push(ObjectRef::of(b, "rolebindings"));
            }
        },
    )
    .await;
    match result {
        Ok(()) => Ok(out),
        Err(e) if e.kind == ErrorKind::Forbidden => Ok(vec![]),
        Err(e) => Err(e),
    }
}

fn our_selector() -> String {
    format!("{MANAGED_BY_LABEL}={MANAGER}")
}

/// Page size of `get` when the caller does not choose one (kubectl's `--chunk-size` default).
pub const DEFAULT_CHUNK_SIZE: u32 = 500;

/// List every object of a kind across the cluster, `chunk` at a time (all at once with
/// `None` or 0), handing each to `each`. Lists narrowed by a label selector to a handful of
/// objects pass `None`: with a limit, the API server reads its store a page at a time until
/// it has found `limit` matches, which for a rare label means many reads instead of one.
pub(crate) async fn list_all(
    cluster: &Cluster,
    api_version: &str,
    kind: &str,
    plural: &str,
    selector: Option<&str>,
    chunk: Option<u32>,
    mut each: impl FnMut(&Value),
) -> Result<()> {
    let api = cluster::all_api(&cluster.client, api_version, kind, plural);
    let mut lp = ListParams::default();
    if let Some(n) = chunk.filter(|n| *n > 0) {
        lp = lp.limit(n);
    }
    if let Some(s) = selector {
        lp = lp.labels(s);
    }
    loop {
        let page = api
            .list(&lp)
            .await
            .map_err(|e| cluster::classify(e).context(format_args!("list {plural}")))?;
        for item in &page.items {
            let mut v = serde_json::to_value(item).expect("objects serialize");
            v["apiVersion"] = json!(api_version);
            v["kind"] = json!(kind);
            each(&v);
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => lp = lp.continue_token(&token),
            None => return Ok(()),
        }
    }
}

// ---------------------------------------------------------------- bind-role / unbind-role

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BindRoleRequest {
    pub target: Target,
    /// The cluster role that may `use` the credential spec (as made by add-credspec).
    pub cluster_role_name: String,
    /// `name` (in `namespace`) or `namespace:name`; default `default`.
    pub service_accounts: Vec<String>,
    pub namespace: Option<String>,
    pub overwrite: bool,
    pub dry_run: DryRun,
}

/// Let more service accounts use a credential spec: RoleBindings to its cluster role.
pub async fn bind_role(req: &BindRoleRequest, reporter: &dyn Reporter) -> Result<ApplyOutcome> {
    objects::check_rbac_name("cluster role", &req.cluster_role_name)?;
    let cluster = connect_for(&req.target, req.dry_run).await?;
    let namespace = namespace_for(&req.target, req.namespace.as_deref(), cluster.as_ref()).await?;
    let sas = service_accounts(&req.service_accounts, &namespace)?;
    let credspec_name = match &cluster {
        Some(c) => {
            let role = cluster::get(
                &c.client,
                &objects::cluster_role_ref(&req.cluster_role_name),
            )
            .await?
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("cluster role {} does not exist", req.cluster_role_name),
                )
                .with_hint(
                    "create it with `kubectl gmsa add-credspec ... --cluster-role-name NAME`",
                )
            })?;
            role["metadata"]["annotations"][cluster::CREDSPEC_ANNOTATION]
                .as_str()
                .or_else(|| role["rules"][0]["resourceNames"][0].as_str())
                .unwrap_or_default()
                .to_owned()
        }
        None => String::new(),
    };
    let objs = sas
        .iter()
        .map(|sa| {
            (
                objects::role_binding_ref(&req.cluster_role_name, sa),
                objects::role_binding(&req.cluster_role_name, &credspec_name, sa),
            )
        })
        .collect();
    let opts = ApplyOptions {
        overwrite: req.overwrite,
        dry_run: req.dry_run,
    };
    let objects = apply_all(cluster.as_ref(), objs, &opts, async { Ok(()) }, reporter).await?;
    Ok(ApplyOutcome {
        dry_run: req.dry_run,
        objects,
        findings: vec![],
    })
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UnbindRoleRequest {
    pub target: Target,
    pub cluster_role_name: String,
    pub service_accounts: Vec<String>,
    pub namespace: Option<String>,
    pub dry_run: DryRun,
}

/// Revoke: delete our RoleBindings of the cluster role to these service accounts.
pub async fn unbind_role(req: &UnbindRoleRequest, reporter: &dyn Reporter) -> Result<ApplyOutcome> {
    objects::check_rbac_name("cluster role", &req.cluster_role_name)?;
    if req.dry_run == DryRun::Client {
        return Err(Error::invalid(
            "--dry-run=client is not available for removals; use --dry-run=server",
        ));
    }
    let cluster = cluster::connect(&req.target).await?;
    let namespace = namespace_for(&req.target, req.namespace.as_deref(), Some(&cluster)).await?;
    let sas = service_accounts(&req.service_accounts, &namespace)?;
    let refs: Vec<ObjectRef> = sas
        .iter()
        .map(|sa| objects::role_binding_ref(&req.cluster_role_name, sa))
        .collect();
    let found = try_join_all(refs.iter().map(|r| cluster::get(&cluster.client, r))).await?;
    let mut to_delete = vec![];
    let mut others = vec![];
    for (r, obj) in refs.into_iter().zip(found) {
        match obj {
            None => others.push(ObjectOutcome::new(&r, super::Action::Absent, None)),
            Some(o) if !is_ours(&o) => {
                others.push(skip(&r, "not managed by kubectl-gmsa; left in place"))
            }
            Some(_) => to_delete.push(r),
        }
    }
    let mut objects =
        delete_all(&cluster, to_delete, req.dry_run == DryRun::Server, reporter).await?;
    objects.extend(others);
    Ok(ApplyOutcome {
        dry_run: req.dry_run,
        objects,
        findings: vec![],
    })
}

// ---------------------------------------------------------------- get

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetRequest {
    pub target: Target,
    /// One credential spec by name; default all.
    pub name: Option<String>,
    /// Keep each resource in the outcome (for `-o yaml|json`).
    pub include_resources: bool,
    /// Objects per page when listing (kubectl's `--chunk-size`); default 500, 0 = one page.
    pub chunk_size: Option<u32>,
}

/// One credential spec in the cluster, with who may use it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredspecInfo {
    pub name: String,
    /// The gMSA (`DomainJoinConfig.MachineAccountName`).
    pub account: String,
    /// `DnsName`.
    pub domain: String,
    pub net_bios_name: String,
    /// The ccg plug-in GUID, for non-domain-joined hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_guid: Option<String>,
    /// Cluster roles of ours that grant `use` on it.
    pub cluster_roles: Vec<String>,
    /// `namespace:name` of each service account bound to those roles by our bindings.
    pub service_accounts: Vec<String>,
    pub managed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetOutcome {
    pub items: Vec<CredspecInfo>,
}

/// List credential specs (paging through large clusters) with the accounts they name and
/// the service accounts bound to them.
pub async fn get(req: &GetRequest, reporter: &dyn Reporter) -> Result<GetOutcome> {
    if let Some(n) = &req.name {
        names::check_resource_name("credential spec", n)?;
    }
    let cluster = cluster::connect(&req.target).await?;
    let chunk = req.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE);
    reporter.step("listing credential specs");
    let mut items: Vec<CredspecInfo> = vec![];
    let api_version = format!("{}/{}", credspec::GROUP, credspec::VERSION);
    let collect = |v: &Value, items: &mut Vec<CredspecInfo>| {
        let cs = &v["credspec"];
        let djc = &cs["DomainJoinConfig"];
        let s = |x: &Value| x.as_str().unwrap_or_default().to_owned();
        items.push(CredspecInfo {
            name: s(&v["metadata"]["name"]),
            account: s(&djc["MachineAccountName"]),
            domain: s(&djc["DnsName"]),
            net_bios_name: s(&djc["NetBiosName"]),
            plugin_guid: cs["ActiveDirectoryConfig"]["HostAccountConfig"]["PluginGUID"]
                .as_str()
                .map(str::to_owned),
            cluster_roles: vec![],
            service_accounts: vec![],
            managed: is_ours(v),
            resource: req.include_resources.then(|| v.clone()),
        });
    };
    // The three lists at once: credential specs, our cluster roles, our role bindings.
    let selector = our_selector();
    let mut role_to_specs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut role_to_sas: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let specs = async {
        match &req.name {
            Some(n) => match cluster::get(&cluster.client, &objects::credspec_ref(n)).await? {
                Some(v) => {
                    collect(&v, &mut items);
                    Ok(())
                }
                None => Err(Error::new(
                    ErrorKind::NotFound,
                    format!("credential spec {n} not found"),
                )
                .with_hint("`kubectl gmsa get` lists them")),
            },
            None => {
                list_all(
                    &cluster,
                    &api_version,
                    credspec::KIND,
                    credspec::PLURAL,
                    None,
                    Some(chunk),
                    |v| collect(v, &mut items),
                )
                .await
            }
        }
    };
    // Who may use them: our cluster roles, and our role bindings of those roles.
    let roles = list_all(
        &cluster,
        objects::RBAC,
        "ClusterRole",
        "clusterroles",
        Some(&selector),
        Some(chunk),
        |r| {
            let name = r["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            for rule in r["rules"].as_array().into_iter().flatten() {
                if rule["resources"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == credspec::PLURAL))
                {
                    for n in rule["resourceNames"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|x| x.as_str())
                    {
                        role_to_specs
                            .entry(name.clone())
                            .or_default()
                            .push(n.to_owned());
                    }
                }
            }
        },
    );
    let bindings = list_all(
        &cluster,
        objects::RBAC,
        "RoleBinding",
        "rolebindings",
        Some(&selector),
        Some(chunk),
        |b| {
            if let Some(role) = b["roleRef"]["name"].as_str() {
                for s in b["subjects"].as_array().into_iter().flatten() {
                    if s["kind"] == "ServiceAccount" {
                        let ns = s["namespace"]
                            .as_str()
                            .or(b["metadata"]["namespace"].as_str())
                            .unwrap_or_default();
                        role_to_sas
                            .entry(role.to_owned())
                            .or_default()
                            .push(format!("{ns}:{}", s["name"].as_str().unwrap_or_default()));
                    }
                }
            }
        },
    );
    let (result, roles, bindings) = tokio::join!(specs, roles, bindings);
    if let Err(e) = result {
        if e.kind == ErrorKind::NotFound && req.name.is_none() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "the cluster at {} does not serve GMSACredentialSpec",
                    cluster.server
                ),
            )
            .with_hint("install it with `kubectl gmsa install-webhook`"));
        }
        return Err(e);
    }

    for r in [roles, bindings] {
        match r {
            Ok(()) => {}
            Err(e) if e.kind == ErrorKind::Forbidden => {}
            Err(e) => return Err(e),
        }
    }
    let mut spec_to_roles: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (role, specs) in &role_to_specs {
        for s in specs {
            spec_to_roles
                .entry(s.as_str())
                .or_default()
                .push(role.as_str());
        }
    }
    for item in &mut items {
        if let Some(roles) = spec_to_roles.get(item.name.as_str()) {
            for role in roles {
                item.cluster_roles.push((*role).to_owned());
                if let Some(sas) = role_to_sas.get(*role) {
                    item.service_accounts.extend(sas.iter().cloned());
                }
            }
            item.service_accounts.sort();
            item.service_accounts.dedup();
        }
    }
    Ok(GetOutcome { items })
}

// ---------------------------------------------------------------- access check

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckAccessRequest {
    pub target: Target,
    pub credspec_name: String,
    pub service_accounts: Vec<String>,
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessAnswer {
    pub service_account: String,
    pub allowed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckAccessOutcome {
    pub credspec_name: String,
    pub answers: Vec<AccessAnswer>,
}

/// Ask, as the webhook does (LocalSubjectAccessReview), whether each service account may
/// `use` the credential spec.
pub async fn check_access(req: &CheckAccessRequest) -> Result<CheckAccessOutcome> {
    names::check_resource_name("credential spec", &req.credspec_name)?;
    let cluster = cluster::connect(&req.target).await?;
    let namespace = namespace_for(&req.target, req.namespace.as_deref(), Some(&cluster)).await?;
    let sas = service_accounts(&req.service_accounts, &namespace)?;
    let answers =
        try_join_all(sas.iter().map(|sa| {
            access::may_use(&cluster.client, &sa.namespace, &sa.name, &req.credspec_name)
        }))
        .await?;
    Ok(CheckAccessOutcome {
        credspec_name: req.credspec_name.clone(),
        answers: sas
            .iter()
            .zip(answers)
            .map(|(sa, allowed)| AccessAnswer {
                service_account: sa.to_string(),
                allowed,
            })
            .collect(),
    })
}

// ---------------------------------------------------------------- create-secret

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
