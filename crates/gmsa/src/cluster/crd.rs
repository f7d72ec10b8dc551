//! The `gmsacredentialspecs.windows.k8s.io` CustomResourceDefinition: cluster scoped,
//! `v1` (storage) and `v1alpha1` (served, deprecated), with the credential spec's schema,
//! compatible with the upstream webhook's CRD so that either may own it.

use serde_json::{json, Value};

use crate::credspec::{CRD_NAME, GROUP, KIND, PLURAL};

/// The credential spec's schema: the keys Windows writes; the API server prunes the rest.
fn credspec_schema() -> Value {
    let string = json!({ "type": "string" });
    json!({
        "description": "GMSA Credential Spec",
        "type": "object",
        "properties": {
            "ActiveDirectoryConfig": {
                "type": "object",
                "properties": {
                    "GroupManagedServiceAccounts": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": { "Name": string, "Scope": string }
                        }
                    },
                    "HostAccountConfig": {
                        "type": "object",
                        "properties": {
                            "PluginGUID": string,
                            "PluginInput": string,
                            "PortableCcgVersion": string
                        }
                    }
                }
            },
            "CmsPlugins": { "type": "array", "items": string },
            "DomainJoinConfig": {
                "type": "object",
                "properties": {
                    "DnsName": string,
                    "DnsTreeName": string,
                    "Guid": string,
                    "MachineAccountName": string,
                    "NetBiosName": string,
                    "Sid": string
                }
            }
        }
    })
}

/// The CRD manifest, labelled as ours.
pub fn manifest() -> Value {
    let schema = json!({
        "openAPIV3Schema": {
            "type": "object",
            "properties": { "credspec": credspec_schema() }
        }
    });
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": CRD_NAME,
            "labels": { super::MANAGED_BY_LABEL: super::MANAGER },
            "annotations": {
                "api-approved.kubernetes.io": "https://github.com/kubernetes/enhancements/tree/master/keps/sig-windows/689-windows-gmsa"
            }
        },
        "spec": {
            "group": GROUP,
            "scope": "Cluster",
            "names": {
                "kind": KIND,
                "listKind": format!("{KIND}List"),
                "plural": PLURAL,
                "singular": "gmsacredentialspec"
            },
            "versions": [
                { "name": "v1alpha1", "served": true, "storage": false, "deprecated": true, "schema": schema },
                { "name": "v1", "served": true, "storage": true, "schema": schema }
            ]
        }
    })
}

pub fn object_ref() -> super::object::ObjectRef {
    super::ObjectRef::of(&manifest(), "customresourcedefinitions")
}
