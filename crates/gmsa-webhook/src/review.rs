//! One AdmissionReview in, one out: which object it is (a Pod, or the pods/ephemeralcontainers
//! subresource in its 1.20 `EphemeralContainers` or 1.22+ `Pod` shape), which operation,
//! and the core's rules applied to it (`gmsa::admission`). No HTTP here.

use std::collections::BTreeSet;

use base64::Engine;
use gmsa::admission::{self, Denial, Setting};
use k8s_openapi::api::core::v1::{EphemeralContainer, Pod};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::lookup::{answers, service_account_of, Lookups};

/// Which endpoint was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Validate,
    Mutate,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Validate => "validate",
            Endpoint::Mutate => "mutate",
        }
    }
}

/// Webhook-wide options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub random_hostname: bool,
}

/// What the review decided, for the response and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub denial: Option<Denial>,
    /// JSON patch operations (already as upstream's JSON text), mutation only.
    pub patch: Option<String>,
}

impl Decision {
    fn allow() -> Decision {
        Decision {
            denial: None,
            patch: None,
        }
    }
    fn deny(d: Denial) -> Decision {
        Decision {
            denial: Some(d),
            patch: None,
        }
    }
}

/// The parts of an AdmissionRequest the webhook reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Request {
    pub uid: String,
    pub kind: GroupVersionKind,
    pub sub_resource: Option<String>,
    pub operation: String,
    pub namespace: String,
    pub name: String,
    pub object: Value,
    pub old_object: Value,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GroupVersionKind {
    pub kind: String,
}

/// The 1.20 `EphemeralContainers` object (pods/ephemeralcontainers before 1.22).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct EphemeralContainers {
    ephemeral_containers: Vec<EphemeralContainer>,
}

fn bad_request(message: String) -> Denial {
    Denial {
        check: admission::Check::CredentialSpec,
        code: 400,
        message,
    }
}

fn parse<T: for<'de> Deserialize<'de>>(v: &Value, what: &str) -> Result<T, Denial> {
    serde_json::from_value(v.clone())
        .map_err(|e| bad_request(format!("unable to unmarshall {what} JSON object: {e}")))
}

/// The decision on one request.
pub async fn decide<L: Lookups>(
    l: &L,
    opts: &Options,
    endpoint: Endpoint,
    r: &Request,
) -> Decision {
    match decide_inner(l, opts, endpoint, r).await {
        Ok(d) => d,
        Err(d) => Decision::deny(d),
    }
}

async fn decide_inner<L: Lookups>(
    l: &L,
    opts: &Options,
    endpoint: Endpoint,
    r: &Request,
) -> Result<Decision, Denial> {
    let sub = r.sub_resource.as_deref().unwrap_or("");
    if sub == "ephemeralcontainers" {
        return ephemeral(l, endpoint, r).await;
    }
    if !sub.is_empty() {
        // Only the subresources we register for reach us; anything else is not ours to judge.
        return Ok(Decision::allow());
    }
    if r.kind.kind != "Pod" {
        return Err(bad_request(format!(
            "expected a Pod object, got a {}",
            r.kind.kind
        )));
    }
    let pod: Pod = parse(&r.object, "pod")?;
    let spec = pod.spec.clone().unwrap_or_default();
    let pod_name = pod.metadata.name.clone().unwrap_or_default();
    let settings = admission::settings_of(&spec);
    match (r.operation.as_str(), endpoint) {
        ("CREATE", _) => {
            if settings.is_empty() {
                return Ok(Decision::allow());
            }
            let sa = service_account_of(spec.service_account_name.as_deref());
            let names = admission::names(&settings);
            let a = answers(l, &r.namespace, &sa, &names).await;
            match endpoint {
                Endpoint::Validate => {
                    admission::review_new(&pod_name, &sa, &settings, &a)?;
                    Ok(Decision::allow())
                }
                Endpoint::Mutate => {
                    let mut ops = admission::inline_patches(&settings, "/spec", &a)?;
                    let has_name = !names.is_empty();
                    let no_hostname = spec.hostname.as_deref().unwrap_or("").is_empty();
                    if opts.random_hostname && has_name && no_hostname {
                        ops.push(admission::PatchOp {
                            path: "/spec/hostname".into(),
                            value: random_hostname(),
                        });
                    }
                    Ok(patched(&ops))
                }
            }
        }
        ("UPDATE", Endpoint::Validate) => {
            let old: Pod = parse(&r.old_object, "pod")?;
            let old_settings = admission::settings_of(&old.spec.unwrap_or_default());
            admission::review_update(&pod_name, &old_settings, &settings)?;
            Ok(Decision::allow())
        }
        // No mutation on UPDATE, and other operations are not ours to judge.
        _ => Ok(Decision::allow()),
    }
}

fn patched(ops: &[admission::PatchOp]) -> Decision {
    Decision {
        denial: None,
        patch: (!ops.is_empty()).then(|| admission::patch_json(ops)),
    }
}

/// pods/ephemeralcontainers: existing ephemeral containers (and, in the 1.22+ shape, every
/// other gMSA setting) must stay as they are; new ones are judged like a new pod's.
async fn ephemeral<L: Lookups>(l: &L, endpoint: Endpoint, r: &Request) -> Result<Decision, Denial> {
    if r.operation != "UPDATE" {
        return Ok(Decision::allow());
    }
    struct Shape {
        settings: Vec<Setting>,
        ephemeral_names: BTreeSet<String>,
        service_account: Option<String>,
        root: &'static str,
    }
    let shape = |v: &Value| -> Result<Shape, Denial> {
        match r.kind.kind.as_str() {
            "EphemeralContainers" => {
                let e: EphemeralContainers = parse(v, "EphemeralContainers")?;
                Ok(Shape {
                    settings: admission::ephemeral_settings(&e.ephemeral_containers),
                    ephemeral_names: e
                        .ephemeral_containers
                        .iter()
                        .map(|c| c.name.clone())
                        .collect(),
                    service_account: None,
                    root: "",
                })
            }
            "Pod" => {
                let p: Pod = parse(v, "pod")?;
                let spec = p.spec.unwrap_or_default();
                Ok(Shape {
                    settings: admission::settings_of(&spec),
                    ephemeral_names: spec
                        .ephemeral_containers
                        .iter()
                        .flatten()
                        .map(|c| c.name.clone())
                        .collect(),
                    service_account: Some(service_account_of(spec.service_account_name.as_deref())),
                    root: "/spec",
                })
            }
            other => Err(bad_request(format!(
                "expected a Pod or EphemeralContainers object, got a {other}"
            ))),
        }
    };
    let new = shape(&r.object)?;
    let old = shape(&r.old_object)?;
    let is_added = |s: &Setting| matches!(&s.place, admission::Place::EphemeralContainer(n) if !old.ephemeral_names.contains(n));
    let (added, kept): (Vec<Setting>, Vec<Setting>) =
        new.settings.iter().cloned().partition(is_added);
    if endpoint == Endpoint::Validate {
        admission::review_update(&r.name, &old.settings, &kept)?;
    }
    if added.is_empty() {
        return Ok(Decision::allow());
    }
    let sa = match new.service_account {
        Some(sa) => sa,
        None => l
            .pod_service_account(&r.namespace, &r.name)
            .await
            .map_err(|e| admission::Denial {
                check: admission::Check::Authorization,
                code: 500,
                message: format!("unable to find the pod's service account: {e}"),
            })?,
    };
    let names = admission::names(&added);
    let a = answers(l, &r.namespace, &sa, &names).await;
    match endpoint {
        Endpoint::Validate => {
            admission::review_new(&r.name, &sa, &added, &a)?;
            Ok(Decision::allow())
        }
        Endpoint::Mutate => Ok(patched(&admission::inline_patches(&added, new.root, &a)?)),
    }
}

/// 15 lower-case characters, the shape upstream gives (the start of a random UUID), short
/// enough for a NetBIOS name.
pub fn random_hostname() -> String {
    let mut b = [0u8; 8];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
        .is_ok();
    if !ok {
        // No /dev/urandom: the clock's nanoseconds and the process id still differ per pod.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0) as u64;
        b = (t ^ ((std::process::id() as u64) << 32)).to_le_bytes();
    }
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-4", &hex[..8], &hex[8..12])
}

/// The AdmissionReview answer: same apiVersion and uid as asked, the decision in it.
pub fn response(api_version: &str, uid: &str, d: &Decision) -> Value {
    let mut resp = json!({ "uid": uid, "allowed": d.denial.is_none() });
    if let Some(den) = &d.denial {
        resp["status"] = json!({ "message": den.message, "code": den.code });
    }
    if let Some(p) = &d.patch {
        resp["patchType"] = json!("JSONPatch");
        resp["patch"] = json!(base64::engine::general_purpose::STANDARD.encode(p));
    }
    json!({
        "apiVersion": if api_version.is_empty() { "admission.k8s.io/v1" } else { api_version },
        "kind": "AdmissionReview",
        "response": resp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmsa::admission::Answer;

    /// A cluster where `ok` may be used by `sa1`, `other` by nobody, and `gone` is missing.
    struct Fake;

    impl Lookups for Fake {
        async fn answer(&self, _ns: &str, sa: &str, name: &str) -> Answer {
            Answer {
                authorized: Ok(sa == "sa1" && name != "other"),
                reason: String::new(),
                contents: match name {
                    "gone" => Err(admission::not_found(name)),
                    _ => Ok(format!("{{\"n\":\"{name}\"}}")),
                },
            }
        }
        async fn pod_service_account(&self, _ns: &str, pod: &str) -> Result<String, String> {
            Ok(if pod == "p1" {
                "sa1".into()
            } else {
                "sa2".into()
            })
        }
    }

    fn req(v: Value) -> Request {
        serde_json::from_value(v).unwrap()
    }

    fn eph(name: &str, spec: Option<&str>) -> Value {
        let mut c = json!({"name": name, "image": "x"});
        if let Some(s) = spec {
            c["securityContext"] = json!({"windowsOptions": {"gmsaCredentialSpecName": s}});
        }
        c
    }

    async fn run(endpoint: Endpoint, r: Value) -> Decision {
        decide(&Fake, &Options::default(), endpoint, &req(r)).await
    }

    #[tokio::test]
    async fn ephemeral_containers_in_the_1_20_shape_are_checked_and_patched() {
        let old =
            json!({"kind": "EphemeralContainers", "ephemeralContainers": [eph("e0", Some("ok"))]});
        let new = |spec: &str| json!({"kind": "EphemeralContainers", "ephemeralContainers": [eph("e0", Some("ok")), eph("e1", Some(spec))]});
        let r = |pod: &str, spec: &str| {
            json!({"uid": "u", "kind": {"kind": "EphemeralContainers"}, "subResource": "ephemeralcontainers",
                "operation": "UPDATE", "namespace": "ns", "name": pod, "object": new(spec), "oldObject": old})
        };
        let d = run(Endpoint::Validate, r("p1", "other")).await;
        let den = d.denial.unwrap();
        assert_eq!(den.check, admission::Check::Authorization);
        assert!(
            den.message.contains("(set on ephemeralContainer \"e1\")"),
            "{}",
            den.message
        );
        assert_eq!(run(Endpoint::Validate, r("p1", "ok")).await.denial, None);
        // The service account is the pod's: p2 runs as sa2, who may use nothing.
        assert!(run(Endpoint::Validate, r("p2", "ok"))
            .await
            .denial
            .is_some());
        let m = run(Endpoint::Mutate, r("p1", "ok")).await;
        assert_eq!(
            m.patch.unwrap(),
            r#"[{"op":"add","path":"/ephemeralContainers/1/securityContext/windowsOptions/gmsaCredentialSpec","value":"{\"n\":\"ok\"}"}]"#
        );
    }

    #[tokio::test]
    async fn ephemeral_containers_in_the_1_22_shape_cannot_change_existing_settings() {
        let pod = |e: Vec<Value>| {
            json!({"kind": "Pod", "metadata": {"name": "p"},
            "spec": {"serviceAccountName": "sa1", "containers": [{"name": "c", "image": "x"}], "ephemeralContainers": e}})
        };
        let r = |old: Value, new: Value| {
            json!({"uid": "u", "kind": {"kind": "Pod"}, "subResource": "ephemeralcontainers",
                "operation": "UPDATE", "namespace": "ns", "name": "p", "object": new, "oldObject": old})
        };
        let changed = run(
            Endpoint::Validate,
            r(
                pod(vec![eph("e0", Some("ok"))]),
                pod(vec![eph("e0", Some("gone"))]),
            ),
        )
        .await;
        assert_eq!(changed.denial.unwrap().check, admission::Check::Unchanged);
        let added = run(
            Endpoint::Validate,
            r(pod(vec![]), pod(vec![eph("e0", Some("other"))])),
        )
        .await;
        assert_eq!(added.denial.unwrap().check, admission::Check::Authorization);
        let m = run(
            Endpoint::Mutate,
            r(pod(vec![]), pod(vec![eph("e0", Some("ok"))])),
        )
        .await;
        assert!(m
            .patch
            .unwrap()
            .contains("\"/spec/ephemeralContainers/0/securityContext"));
    }

    #[tokio::test]
    async fn pods_without_gmsa_pass_untouched_and_hostnames_are_opt_in() {
        let plain = json!({"uid": "u", "kind": {"kind": "Pod"}, "operation": "CREATE", "namespace": "ns",
            "object": {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}});
        assert_eq!(
            run(Endpoint::Mutate, plain.clone()).await,
            Decision::allow()
        );
        let mut g = plain.clone();
        g["object"]["spec"]["serviceAccountName"] = json!("sa1");
        g["object"]["spec"]["securityContext"] =
            json!({"windowsOptions": {"gmsaCredentialSpecName": "ok"}});
        let opts = Options {
            random_hostname: true,
        };
        let d = decide(&Fake, &opts, Endpoint::Mutate, &req(g.clone())).await;
        let patch: Value = serde_json::from_str(&d.patch.unwrap()).unwrap();
        assert_eq!(patch[1]["path"], "/spec/hostname");
        assert_eq!(patch[1]["value"].as_str().unwrap().len(), 15);
        let d = run(Endpoint::Mutate, g).await;
        assert!(!d.patch.unwrap().contains("hostname"));
    }

    #[test]
    fn the_response_keeps_uid_and_version_and_encodes_the_patch() {
        let d = Decision {
            denial: None,
            patch: Some("[]".into()),
        };
        let r = response("admission.k8s.io/v1beta1", "u1", &d);
        assert_eq!(r["apiVersion"], "admission.k8s.io/v1beta1");
        assert_eq!(r["response"]["uid"], "u1");
        assert_eq!(r["response"]["patch"], "W10=");
        assert_eq!(r["response"]["patchType"], "JSONPatch");
    }
}
