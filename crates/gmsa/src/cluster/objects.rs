//! The objects `add-credspec` and `bind-role` make: the credential spec resource, a
//! ClusterRole granting `use` on exactly that name, and a RoleBinding per service account.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::object::{ObjectRef, CREDSPEC_ANNOTATION, MANAGED_BY_LABEL, MANAGER};
use crate::credspec::{self, CredentialSpec, GROUP, PLURAL};
use crate::error::{Error, Result};
use crate::names;

pub const RBAC: &str = "rbac.authorization.k8s.io/v1";

/// The service account that may use a credential spec when none is named.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";
/// The namespace of the domain-user Secret of a ccg plug-in when none is named.
pub const DEFAULT_SECRET_NAMESPACE: &str = "default";

/// The ClusterRole that may `use` a credential spec, when none is named.
pub fn default_cluster_role(credspec_name: &str) -> String {
    format!("{credspec_name}-gmsa-user")
}

/// The service accounts given (`name` in `namespace`, or `namespace:name`), without
/// repeats; the default service account of `namespace` when none is given.
pub fn service_accounts(given: &[String], namespace: &str) -> Result<Vec<ServiceAccountRef>> {
    let list: Vec<String> = if given.is_empty() {
        vec![DEFAULT_SERVICE_ACCOUNT.into()]
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

/// A service account that may use a credential spec: `name` in `namespace`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccountRef {
    pub namespace: String,
    pub name: String,
}

impl ServiceAccountRef {
    /// Parse `name` (in `default_namespace`) or kubectl's `namespace:name`.
    pub fn parse(s: &str, default_namespace: &str) -> Result<ServiceAccountRef> {
        let (ns, name) = match s.split_once(':') {
            Some((ns, name)) => (ns, name),
            None => (default_namespace, s),
        };
        names::check_namespace(ns)?;
        names::check_subdomain(name)
            .map_err(|m| Error::invalid(format!("invalid service account name: {m}")))?;
        Ok(ServiceAccountRef {
            namespace: ns.into(),
            name: name.into(),
        })
    }
}

impl std::fmt::Display for ServiceAccountRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.namespace, self.name)
    }
}

fn labels() -> Value {
    json!({ MANAGED_BY_LABEL: MANAGER })
}

/// Label on our RoleBindings naming their ClusterRole, so that removals find them with a
/// server-side selector instead of listing every binding of ours.
pub const CLUSTER_ROLE_LABEL: &str = "kubectl-gmsa/cluster-role";

/// The role name as a label value, when it can be one (at most 63 characters of
/// alphanumerics, '-', '_' and '.', starting and ending alphanumeric).
pub fn role_label_value(role: &str) -> Option<&str> {
    let ok = !role.is_empty()
        && role.len() <= 63
        && role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && role.starts_with(|c: char| c.is_ascii_alphanumeric())
        && role.ends_with(|c: char| c.is_ascii_alphanumeric());
    ok.then_some(role)
}

/// The `GMSACredentialSpec` resource, labelled as ours.
pub fn credspec_resource(name: &str, spec: &CredentialSpec) -> Value {
    credspec::to_resource(name, spec, &[(MANAGED_BY_LABEL, MANAGER)])
}

pub fn credspec_ref(name: &str) -> ObjectRef {
    ObjectRef {
        api_version: format!("{GROUP}/{}", credspec::VERSION),
        kind: credspec::KIND.into(),
        plural: PLURAL.into(),
        namespace: None,
        name: name.into(),
    }
}

/// The GMSACredentialSpec API, cluster-wide.
pub fn credspecs_api(client: &kube::Client) -> kube::Api<kube::api::DynamicObject> {
    let r = credspec_ref("");
    super::all_api(client, &r.api_version, &r.kind, &r.plural)
}

/// A ClusterRole granting `use` on exactly the credential spec `credspec`.
pub fn cluster_role(name: &str, credspec: &str) -> Value {
    json!({
        "apiVersion": RBAC,
        "kind": "ClusterRole",
        "metadata": {
            "name": name,
            "labels": labels(),
            "annotations": { CREDSPEC_ANNOTATION: credspec }
        },
        "rules": [{
            "apiGroups": [GROUP],
            "resources": [PLURAL],
            "verbs": ["use"],
            "resourceNames": [credspec]
        }]
    })
}

pub fn cluster_role_ref(name: &str) -> ObjectRef {
    ObjectRef {
        api_version: RBAC.into(),
        kind: "ClusterRole".into(),
        plural: "clusterroles".into(),
        namespace: None,
        name: name.into(),
    }
}

/// The RoleBinding's name for a cluster role and a service account.
pub fn role_binding_name(cluster_role: &str, sa: &ServiceAccountRef) -> String {
    format!("{cluster_role}-{}", sa.name)
}

fn binding_labels(cluster_role: &str) -> Value {
    let mut l = labels();
    if let Some(v) = role_label_value(cluster_role) {
        l[CLUSTER_ROLE_LABEL] = json!(v);
    }
    l
}

/// A RoleBinding, in the service account's namespace, of the cluster role to it.
pub fn role_binding(cluster_role: &str, credspec: &str, sa: &ServiceAccountRef) -> Value {
    json!({
        "apiVersion": RBAC,
        "kind": "RoleBinding",
        "metadata": {
            "name": role_binding_name(cluster_role, sa),
            "namespace": sa.namespace,
            "labels": binding_labels(cluster_role),
            "annotations": { CREDSPEC_ANNOTATION: credspec }
        },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role },
        "subjects": [{ "kind": "ServiceAccount", "name": sa.name, "namespace": sa.namespace }]
    })
}

pub fn role_binding_ref(cluster_role: &str, sa: &ServiceAccountRef) -> ObjectRef {
    ObjectRef {
        api_version: RBAC.into(),
        kind: "RoleBinding".into(),
        plural: "rolebindings".into(),
        namespace: Some(sa.namespace.clone()),
        name: role_binding_name(cluster_role, sa),
    }
}

/// Check a ClusterRole or RoleBinding name (a path segment: no '/', '%', not '.' or '..').
pub fn check_rbac_name(what: &str, name: &str) -> Result<()> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.contains('/')
        || name.contains('%')
        || name.len() > 253;
    if bad {
        return Err(Error::invalid(format!(
            "invalid {what} name \"{name}\": it must be 1 to 253 characters, not \".\" or \"..\", without '/' or '%'"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_refs() {
        let a = ServiceAccountRef::parse("app", "shop").unwrap();
        assert_eq!((a.namespace.as_str(), a.name.as_str()), ("shop", "app"));
        let b = ServiceAccountRef::parse("web:app", "shop").unwrap();
        assert_eq!(b.namespace, "web");
        assert!(ServiceAccountRef::parse("App", "shop").is_err());
        assert!(ServiceAccountRef::parse("app", "Shop").is_err());
    }

    #[test]
    fn cluster_role_grants_use_on_one_name() {
        let r = cluster_role("webapp01-user", "webapp01");
        assert_eq!(r["rules"][0]["verbs"], json!(["use"]));
        assert_eq!(r["rules"][0]["resourceNames"], json!(["webapp01"]));
        assert_eq!(r["metadata"]["labels"][MANAGED_BY_LABEL], MANAGER);
    }

    #[test]
    fn rbac_names() {
        assert!(check_rbac_name("cluster role", "webapp01:user").is_ok());
        assert!(check_rbac_name("cluster role", "a/b").is_err());
        assert!(check_rbac_name("cluster role", "..").is_err());
    }
}
