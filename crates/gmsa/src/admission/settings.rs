//! Every gMSA setting of a pod and where it sits: the pod level, each container, each init
//! container and each ephemeral container. Pure: the webhook, `doctor` and tests all read a
//! pod's settings through `settings_of`.

use std::fmt;

use k8s_openapi::api::core::v1::{PodSpec, WindowsSecurityContextOptions};
use serde::{Deserialize, Serialize};

/// Where a gMSA setting sits in a pod. Containers are known by their name (unique in a pod,
/// and how an UPDATE is matched with the pod it replaces).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "camelCase")]
pub enum Place {
    /// `spec.securityContext.windowsOptions` (every container inherits it).
    Pod,
    /// `spec.containers[*].securityContext.windowsOptions`.
    Container(String),
    /// `spec.initContainers[*].securityContext.windowsOptions`.
    InitContainer(String),
    /// `spec.ephemeralContainers[*].securityContext.windowsOptions`.
    EphemeralContainer(String),
}

impl Place {
    /// The word upstream's messages use for this kind of place (`pod`, `container`,
    /// `initContainer`), and `ephemeralContainer` for the place upstream never checks.
    pub fn kind_word(&self) -> &'static str {
        match self {
            Place::Pod => "pod",
            Place::Container(_) => "container",
            Place::InitContainer(_) => "initContainer",
            Place::EphemeralContainer(_) => "ephemeralContainer",
        }
    }

    /// The container's name; `None` at the pod level.
    pub fn container(&self) -> Option<&str> {
        match self {
            Place::Pod => None,
            Place::Container(n) | Place::InitContainer(n) | Place::EphemeralContainer(n) => Some(n),
        }
    }

    /// Upstream's way of naming a place in a message: `container "web"`, or `pod "NAME"`
    /// with the pod's name (empty on a CREATE that uses generateName, as upstream prints it).
    pub fn describe(&self, pod_name: &str) -> String {
        format!(
            "{} {:?}",
            self.kind_word(),
            self.container().unwrap_or(pod_name)
        )
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.container() {
            None => f.write_str("pod level"),
            Some(n) => write!(f, "{} {n}", self.kind_word()),
        }
    }
}

/// One `windowsOptions` with a gMSA field set (name, contents, or both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    pub place: Place,
    /// The container's index in its list (`containers`, `initContainers`,
    /// `ephemeralContainers`); `None` at the pod level. Used for JSON patch paths.
    pub index: Option<usize>,
    /// `gmsaCredentialSpecName`: the `GMSACredentialSpec` resource to use.
    pub name: Option<String>,
    /// `gmsaCredentialSpec`: the inlined contents (JSON text).
    pub contents: Option<String>,
}

impl Setting {
    fn from_options(
        place: Place,
        index: Option<usize>,
        o: Option<&WindowsSecurityContextOptions>,
    ) -> Option<Setting> {
        let o = o?;
        if o.gmsa_credential_spec_name.is_none() && o.gmsa_credential_spec.is_none() {
            return None;
        }
        Some(Setting {
            place,
            index,
            name: o.gmsa_credential_spec_name.clone(),
            contents: o.gmsa_credential_spec.clone(),
        })
    }

    /// The JSON pointer of this setting's `gmsaCredentialSpec` inside the object under
    /// admission. `root` is where the pod spec's lists live: `/spec` for a Pod, `` (empty)
    /// for the 1.20 `EphemeralContainers` object, whose `ephemeralContainers` is top level.
    pub fn contents_pointer(&self, root: &str) -> String {
        let list = match &self.place {
            Place::Pod => {
                return format!("{root}/securityContext/windowsOptions/gmsaCredentialSpec")
            }
            Place::Container(_) => "containers",
            Place::InitContainer(_) => "initContainers",
            Place::EphemeralContainer(_) => "ephemeralContainers",
        };
        format!(
            "{root}/{list}/{}/securityContext/windowsOptions/gmsaCredentialSpec",
            self.index.unwrap_or(0)
        )
    }
}

/// Every gMSA setting of a pod spec, in upstream's order (pod, containers, init
/// containers), then ephemeral containers. A `windowsOptions` with neither field is skipped.
pub fn settings_of(spec: &PodSpec) -> Vec<Setting> {
    let mut out = Vec::new();
    out.extend(Setting::from_options(
        Place::Pod,
        None,
        spec.security_context
            .as_ref()
            .and_then(|s| s.windows_options.as_ref()),
    ));
    for (i, c) in spec.containers.iter().enumerate() {
        out.extend(Setting::from_options(
            Place::Container(c.name.clone()),
            Some(i),
            c.security_context
                .as_ref()
                .and_then(|s| s.windows_options.as_ref()),
        ));
    }
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        out.extend(Setting::from_options(
            Place::InitContainer(c.name.clone()),
            Some(i),
            c.security_context
                .as_ref()
                .and_then(|s| s.windows_options.as_ref()),
        ));
    }
    out.extend(ephemeral_settings(
        spec.ephemeral_containers.as_deref().unwrap_or_default(),
    ));
    out
}

/// The gMSA settings of ephemeral containers alone (the 1.20 `EphemeralContainers` object
/// carries only this list).
pub fn ephemeral_settings(
    containers: &[k8s_openapi::api::core::v1::EphemeralContainer],
) -> Vec<Setting> {
    containers
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            Setting::from_options(
                Place::EphemeralContainer(c.name.clone()),
                Some(i),
                c.security_context
                    .as_ref()
                    .and_then(|s| s.windows_options.as_ref()),
            )
        })
        .collect()
}

/// The distinct credential spec names a set of settings asks for, sorted.
pub fn names(settings: &[Setting]) -> Vec<&str> {
    let mut v: Vec<&str> = settings.iter().filter_map(|s| s.name.as_deref()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn spec(v: serde_json::Value) -> PodSpec {
        serde_json::from_value(v).unwrap()
    }

    fn wo(name: Option<&str>, contents: Option<&str>) -> serde_json::Value {
        let mut o = serde_json::Map::new();
        if let Some(n) = name {
            o.insert("gmsaCredentialSpecName".into(), json!(n));
        }
        if let Some(c) = contents {
            o.insert("gmsaCredentialSpec".into(), json!(c));
        }
        json!({ "windowsOptions": o })
    }

    #[test]
    fn finds_every_place_in_order_with_indexes() {
        let s = spec(json!({
            "securityContext": wo(Some("pod-spec"), None),
            "containers": [
                {"name": "plain", "image": "x"},
                {"name": "web", "image": "x", "securityContext": wo(Some("web-spec"), Some("{}"))},
                {"name": "runas", "image": "x", "securityContext": {"windowsOptions": {"runAsUserName": "u"}}},
            ],
            "initContainers": [
                {"name": "init", "image": "x", "securityContext": wo(None, Some("{\"a\":1}"))},
            ],
            "ephemeralContainers": [
                {"name": "debug", "image": "x", "securityContext": wo(Some("dbg"), None)},
            ],
        }));
        let got = settings_of(&s);
        let places: Vec<String> = got.iter().map(|s| s.place.to_string()).collect();
        assert_eq!(
            places,
            [
                "pod level",
                "container web",
                "initContainer init",
                "ephemeralContainer debug"
            ]
        );
        assert_eq!(got[1].index, Some(1));
        assert_eq!(got[1].contents.as_deref(), Some("{}"));
        assert_eq!(got[2].name, None);
        assert_eq!(names(&got), ["dbg", "pod-spec", "web-spec"]);
    }

    #[test]
    fn pointers_match_the_object_under_admission() {
        let s = spec(json!({
            "securityContext": wo(Some("a"), None),
            "containers": [{"name": "c0", "image": "x"}, {"name": "c1", "image": "x", "securityContext": wo(Some("a"), None)}],
            "initContainers": [{"name": "i0", "image": "x", "securityContext": wo(Some("a"), None)}],
            "ephemeralContainers": [{"name": "e0", "image": "x", "securityContext": wo(Some("a"), None)}],
        }));
        let p: Vec<String> = settings_of(&s)
            .iter()
            .map(|s| s.contents_pointer("/spec"))
            .collect();
        assert_eq!(
            p,
            [
                "/spec/securityContext/windowsOptions/gmsaCredentialSpec",
                "/spec/containers/1/securityContext/windowsOptions/gmsaCredentialSpec",
                "/spec/initContainers/0/securityContext/windowsOptions/gmsaCredentialSpec",
                "/spec/ephemeralContainers/0/securityContext/windowsOptions/gmsaCredentialSpec",
            ]
        );
        let eph = ephemeral_settings(s.ephemeral_containers.as_deref().unwrap());
        assert_eq!(
            eph[0].contents_pointer(""),
            "/ephemeralContainers/0/securityContext/windowsOptions/gmsaCredentialSpec"
        );
    }

    #[test]
    fn describes_places_as_upstream_does() {
        assert_eq!(Place::Pod.describe("p1"), "pod \"p1\"");
        assert_eq!(
            Place::InitContainer("init".into()).describe("p1"),
            "initContainer \"init\""
        );
        assert_eq!(settings_of(&spec(json!({"containers": []}))), vec![]);
    }
}
