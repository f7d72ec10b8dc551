//! `get`: the credential specs, with their roles and bindings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cluster::object::{list_all, ours_selector, DEFAULT_CHUNK_SIZE};
use crate::cluster::objects::{self};
use crate::cluster::{self, is_ours, Target};
use crate::credspec::{self};
use crate::error::{Error, ErrorKind, Result};
use crate::names;
use crate::progress::Reporter;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[serde(deny_unknown_fields)]
pub struct GetRequest {
    pub target: Target,
    /// One credential spec by name; default all.
    pub name: Option<String>,
    /// Keep each resource in the outcome (for `-o yaml|json`).
    pub include_resources: bool,
    /// Objects per page when listing (kubectl's `--chunk-size`); default 500, 0 = one page.
    pub chunk_size: Option<u32>,
    /// Only what concerns the service accounts of this namespace (`get -n`): their bindings,
    /// and (without `name`) only the credential specs one of them may use. Credential specs
    /// are cluster-scoped, so without it every spec and every binding is listed.
    pub namespace: Option<String>,
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
    /// With `include_resources`: our ClusterRoles that grant `use` on the listed specs,
    /// then our RoleBindings of them (only those of `namespace` when given), as read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rbac: Vec<Value>,
}

/// List credential specs (paging through large clusters) with the accounts they name and
/// the service accounts bound to them.
pub async fn get(req: &GetRequest, reporter: &dyn Reporter) -> Result<GetOutcome> {
    if let Some(n) = &req.name {
        names::check_resource_name("credential spec", n)?;
    }
    if let Some(ns) = &req.namespace {
        names::check_namespace(ns)?;
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
    let selector = ours_selector();
    let mut role_to_specs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut role_to_sas: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut role_objects: BTreeMap<String, Value> = BTreeMap::new();
    let mut binding_objects: Vec<(String, Value)> = vec![];
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
            if req.include_resources {
                role_objects.insert(name.clone(), r.clone());
            }
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
                let mut shown = false;
                for s in b["subjects"].as_array().into_iter().flatten() {
                    if s["kind"] == "ServiceAccount" {
                        let ns = s["namespace"]
                            .as_str()
                            .or(b["metadata"]["namespace"].as_str())
                            .unwrap_or_default();
                        if req.namespace.as_deref().is_some_and(|want| want != ns) {
                            continue;
                        }
                        shown = true;
                        role_to_sas
                            .entry(role.to_owned())
                            .or_default()
                            .push(format!("{ns}:{}", s["name"].as_str().unwrap_or_default()));
                    }
                }
                if shown && req.include_resources {
                    binding_objects.push((role.to_owned(), b.clone()));
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
    // `-n` without a name: only the specs a service account of that namespace may use.
    if req.namespace.is_some() && req.name.is_none() {
        items.retain(|i| !i.service_accounts.is_empty());
    }
    let mut rbac = vec![];
    if req.include_resources {
        let shown_roles: std::collections::BTreeSet<&str> = items
            .iter()
            .flat_map(|i| i.cluster_roles.iter().map(String::as_str))
            .collect();
        rbac.extend(
            role_objects
                .iter()
                .filter(|(name, _)| shown_roles.contains(name.as_str()))
                .map(|(_, v)| v.clone()),
        );
        rbac.extend(
            binding_objects
                .into_iter()
                .filter(|(role, _)| shown_roles.contains(role.as_str()))
                .map(|(_, v)| v),
        );
    }
    Ok(GetOutcome { items, rbac })
}
