//! The admission rules on a pod's gMSA settings, as pure functions over what the cluster
//! answered: may the service account `use` each named spec, do inlined contents match,
//! may an UPDATE change them, and which JSON patch fills them in. The messages are the
//! upstream webhook's where it has one (users search for them), each naming the place.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::contents::contents_equal;
use super::settings::{Place, Setting};

/// Which rule refused a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// The service account may not `use` the named credential spec.
    Authorization,
    /// The named credential spec does not exist, has no contents, or could not be read.
    CredentialSpec,
    /// Inlined contents differ from the resource's.
    ContentsMatch,
    /// Contents are set without a name.
    NameRequired,
    /// An UPDATE changes or removes a gMSA setting (existing ephemeral containers included).
    Unchanged,
}

impl Check {
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Authorization => "authorization",
            Check::CredentialSpec => "credential-spec",
            Check::ContentsMatch => "contents-match",
            Check::NameRequired => "name-required",
            Check::Unchanged => "unchanged",
        }
    }
}

/// A refusal: the rule, the HTTP-style code upstream answers with, and the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Denial {
    pub check: Check,
    pub code: u16,
    pub message: String,
}

impl Denial {
    fn new(check: Check, code: u16, message: String) -> Denial {
        Denial {
            check,
            code,
            message,
        }
    }
}

/// What the cluster said about one named credential spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The access review: allowed, or denied with the authorizer's reason (maybe empty).
    /// `Err` when the review itself failed (its error text).
    pub authorized: Result<bool, String>,
    pub reason: String,
    /// The contents to inline (Go-compatible JSON), or why there are none
    /// (`Check::CredentialSpec` denial: missing resource, no contents, read failure).
    pub contents: Result<String, Denial>,
}

/// A credential spec that does not exist, in upstream's words.
pub fn not_found(name: &str) -> Denial {
    Denial::new(
        Check::CredentialSpec,
        404,
        format!("cred spec {name} does not exist"),
    )
}

/// A credential spec that could not be read (the cause attached once).
pub fn unreadable(name: &str, cause: &str) -> Denial {
    Denial::new(
        Check::CredentialSpec,
        500,
        format!("unable to retrieve the contents of cred spec {name}: {cause}"),
    )
}

/// A credential spec resource without contents.
pub fn no_contents(message: String) -> Denial {
    Denial::new(Check::CredentialSpec, 417, message)
}

fn at(place: &Place) -> String {
    match place.container() {
        None => " (set at the pod level)".into(),
        Some(_) => format!(" (set on {})", place.describe("")),
    }
}

/// The rules of a new pod (CREATE), or of new ephemeral containers, in upstream's order for
/// each setting: a name needs the service account's `use` permission, then an existing
/// resource, then matching contents when they are inlined; contents need a name.
/// `answers` holds one answer per name in `settings`. The first refusal wins.
pub fn review_new(
    pod_name: &str,
    service_account: &str,
    settings: &[Setting],
    answers: &BTreeMap<String, Answer>,
) -> Result<(), Denial> {
    for s in settings {
        let Some(name) = s.name.as_deref() else {
            if s.contents.is_some() {
                return Err(Denial::new(
                    Check::NameRequired,
                    422,
                    format!(
                        "{} has a GMSA cred spec set, but does not define the name of the corresponding resource",
                        s.place.describe(pod_name)
                    ),
                ));
            }
            continue;
        };
        let Some(answer) = answers.get(name) else {
            return Err(unreadable(name, "it was not looked up (a bug)"));
        };
        match &answer.authorized {
            Ok(true) => {}
            Ok(false) | Err(_) => {
                let mut msg = format!(
                    "service account {service_account:?} is not authorized to `use` GMSA cred spec {name:?}"
                );
                let reason = match &answer.authorized {
                    Err(e) => format!("error when checking authz access: {e}"),
                    _ => answer.reason.clone(),
                };
                if !reason.is_empty() {
                    msg.push_str(&format!(", reason: {reason:?}"));
                }
                msg.push_str(&at(&s.place));
                return Err(Denial::new(Check::Authorization, 403, msg));
            }
        }
        let expected = match &answer.contents {
            Ok(c) => c,
            Err(d) => {
                let mut d = d.clone();
                d.message.push_str(&at(&s.place));
                return Err(d);
            }
        };
        if let Some(inlined) = s.contents.as_deref() {
            let same = contents_equal(inlined, expected);
            if !matches!(same, Ok(true)) {
                let mut msg = format!(
                    "the GMSA cred spec contents for {} does not match the contents of GMSA resource {name:?}",
                    s.place.describe(pod_name)
                );
                if let Err(e) = same {
                    msg.push_str(&format!(": {e}"));
                }
                return Err(Denial::new(Check::ContentsMatch, 422, msg));
            }
        }
    }
    Ok(())
}

/// The rule of an UPDATE: no gMSA setting may change or disappear, at any place (existing
/// ephemeral containers included). Places are matched by kind and container name.
pub fn review_update(pod_name: &str, old: &[Setting], new: &[Setting]) -> Result<(), Denial> {
    let find = |list: &[Setting], p: &Place| list.iter().find(|s| &s.place == p).cloned();
    let mut places: Vec<&Place> = new.iter().map(|s| &s.place).collect();
    places.extend(
        old.iter()
            .map(|s| &s.place)
            .filter(|p| find(new, p).is_none()),
    );
    for place in places {
        let (o, n) = (find(old, place), find(new, place));
        let name = |s: &Option<Setting>| s.as_ref().and_then(|s| s.name.clone());
        let contents = |s: &Option<Setting>| s.as_ref().and_then(|s| s.contents.clone());
        let mut modified = Vec::new();
        if name(&o) != name(&n) {
            modified.push("name");
        }
        if contents(&o) != contents(&n) {
            modified.push("contents");
        }
        if !modified.is_empty() {
            return Err(Denial::new(
                Check::Unchanged,
                403,
                format!(
                    "cannot update an existing pod's GMSA settings (GMSA {} modified on {})",
                    modified.join(" and "),
                    place.describe(pod_name)
                ),
            ));
        }
    }
    Ok(())
}

/// One JSON patch operation (always `add`: the mutation fills only what is unset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchOp {
    pub path: String,
    pub value: String,
}

/// The patch that inlines contents wherever a name is set and contents are not. `root` as
/// in `Setting::contents_pointer`. Names without an answer are skipped (the caller looked
/// every name up first and refuses the pod when one failed).
pub fn inline_patches(
    settings: &[Setting],
    root: &str,
    answers: &BTreeMap<String, Answer>,
) -> Result<Vec<PatchOp>, Denial> {
    let mut ops = Vec::new();
    for s in settings {
        let (Some(name), None) = (s.name.as_deref(), s.contents.as_deref()) else {
            continue;
        };
        let Some(answer) = answers.get(name) else {
            continue;
        };
        match &answer.contents {
            Ok(c) => ops.push(PatchOp {
                path: s.contents_pointer(root),
                value: c.clone(),
            }),
            Err(d) => {
                let mut d = d.clone();
                d.message.push_str(&at(&s.place));
                return Err(d);
            }
        }
    }
    Ok(ops)
}

/// The patch as upstream writes it (Go's `json.Marshal` of `[]map[string]string`: keys
/// sorted, `op` then `path` then `value`).
pub fn patch_json(ops: &[PatchOp]) -> String {
    let list: Vec<serde_json::Value> = ops
        .iter()
        .map(|o| serde_json::json!({"op": "add", "path": o.path, "value": o.value}))
        .collect();
    super::contents::go_json(&serde_json::Value::Array(list))
}

#[cfg(test)]
mod tests {
    use super::super::settings::settings_of;
    use super::*;
    use serde_json::json;

    fn settings(v: serde_json::Value) -> Vec<Setting> {
        settings_of(&serde_json::from_value(v).unwrap())
    }

    fn ok(name: &str, contents: &str) -> (String, Answer) {
        (
            name.into(),
            Answer {
                authorized: Ok(true),
                reason: String::new(),
                contents: Ok(contents.into()),
            },
        )
    }

    fn pod(init_name: Option<&str>, init_contents: Option<&str>) -> Vec<Setting> {
        let mut wo = serde_json::Map::new();
        if let Some(n) = init_name {
            wo.insert("gmsaCredentialSpecName".into(), json!(n));
        }
        if let Some(c) = init_contents {
            wo.insert("gmsaCredentialSpec".into(), json!(c));
        }
        settings(json!({
            "securityContext": {"windowsOptions": {"gmsaCredentialSpecName": "a"}},
            "containers": [{"name": "web", "image": "x"}],
            "initContainers": [{"name": "init", "image": "x", "securityContext": {"windowsOptions": wo}}],
        }))
    }

    #[test]
    fn an_unauthorized_init_container_is_refused_even_with_matching_contents() {
        let mut answers: BTreeMap<String, Answer> = [ok("a", "{\"x\":1}")].into();
        answers.insert(
            "b".into(),
            Answer {
                authorized: Ok(false),
                reason: String::new(),
                contents: Ok("{\"y\":2}".into()),
            },
        );
        let s = pod(Some("b"), Some("{\"y\":2}"));
        let d = review_new("p", "sa1", &s, &answers).unwrap_err();
        assert_eq!(d.check, Check::Authorization);
        assert_eq!(d.code, 403);
        assert_eq!(
            d.message,
            "service account \"sa1\" is not authorized to `use` GMSA cred spec \"b\" (set on initContainer \"init\")"
        );
        answers.get_mut("b").unwrap().authorized = Ok(true);
        assert_eq!(review_new("p", "sa1", &s, &answers), Ok(()));
    }

    #[test]
    fn contents_must_match_and_need_a_name() {
        let answers: BTreeMap<String, Answer> = [ok("a", "{\"x\":1}"), ok("b", "{\"y\":2}")].into();
        let d = review_new("p", "sa", &pod(Some("b"), Some("{\"y\":3}")), &answers).unwrap_err();
        assert_eq!(d.check, Check::ContentsMatch);
        assert_eq!(
            d.message,
            "the GMSA cred spec contents for initContainer \"init\" does not match the contents of GMSA resource \"b\""
        );
        let d = review_new("p", "sa", &pod(None, Some("{\"y\":2}")), &answers).unwrap_err();
        assert_eq!(d.check, Check::NameRequired);
        assert_eq!(
            d.message,
            "initContainer \"init\" has a GMSA cred spec set, but does not define the name of the corresponding resource"
        );
        assert_eq!(
            review_new("p", "sa", &pod(Some("b"), Some("{ \"y\": 2 }")), &answers),
            Ok(())
        );
    }

    #[test]
    fn a_missing_spec_and_a_failed_review_say_so() {
        let mut answers: BTreeMap<String, Answer> = [ok("a", "{}")].into();
        answers.get_mut("a").unwrap().contents = Err(not_found("a"));
        let d = review_new("p", "sa", &pod(None, None), &answers).unwrap_err();
        assert_eq!(d.check, Check::CredentialSpec);
        assert_eq!(
            d.message,
            "cred spec a does not exist (set at the pod level)"
        );
        answers.get_mut("a").unwrap().authorized = Err("connection refused".into());
        let d = review_new("p", "sa", &pod(None, None), &answers).unwrap_err();
        assert_eq!(d.check, Check::Authorization);
        assert!(d.message.ends_with(", reason: \"error when checking authz access: connection refused\" (set at the pod level)"), "{}", d.message);
    }

    #[test]
    fn updates_may_not_change_or_remove_a_setting() {
        let old = pod(Some("b"), Some("{}"));
        assert_eq!(review_update("p", &old, &old), Ok(()));
        let d = review_update("p", &old, &pod(Some("c"), Some("{\"z\":0}"))).unwrap_err();
        assert_eq!(d.check, Check::Unchanged);
        assert_eq!(
            d.message,
            "cannot update an existing pod's GMSA settings (GMSA name and contents modified on initContainer \"init\")"
        );
        let d = review_update("p", &old, &pod(None, None)).unwrap_err();
        assert!(
            d.message
                .contains("GMSA name and contents modified on initContainer \"init\""),
            "{}",
            d.message
        );
        let d = review_update("p", &old, &settings(json!({"containers": []}))).unwrap_err();
        assert!(
            d.message.contains("GMSA name modified on pod \"p\""),
            "{}",
            d.message
        );
    }

    #[test]
    fn the_patch_fills_only_unset_contents_byte_compatible_with_upstream() {
        let answers: BTreeMap<String, Answer> = [ok("a", "{\"x\":\"<&>\"}"), ok("b", "{}")].into();
        let ops = inline_patches(&pod(Some("b"), Some("{}")), "/spec", &answers).unwrap();
        assert_eq!(ops.len(), 1);
        assert_eq!(
            patch_json(&ops),
            r#"[{"op":"add","path":"/spec/securityContext/windowsOptions/gmsaCredentialSpec","value":"{\"x\":\"\u003c\u0026\u003e\"}"}]"#
        );
        let ops = inline_patches(&pod(Some("b"), None), "/spec", &answers).unwrap();
        assert_eq!(
            ops[1].path,
            "/spec/initContainers/0/securityContext/windowsOptions/gmsaCredentialSpec"
        );
        let mut missing = answers.clone();
        missing.get_mut("b").unwrap().contents = Err(not_found("b"));
        let d = inline_patches(&pod(Some("b"), None), "/spec", &missing).unwrap_err();
        assert_eq!(
            d.message,
            "cred spec b does not exist (set on initContainer \"init\")"
        );
    }
}
