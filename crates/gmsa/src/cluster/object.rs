//! Objects on the server: references, and the generic get / list / server-side apply /
//! take-over / merge patch / delete of the objects this tool manages.

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::ApiResource;
use kube::Client;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::client::Cluster;
use super::error::classify;
use crate::error::{Error, ErrorKind, Result};
use crate::outcome::{redact, Action, ObjectOutcome};

/// The field manager of every write, and the value of our `managed-by` label.
pub const MANAGER: &str = "kubectl-gmsa";
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Annotation on role bindings and cluster roles naming the credential spec they serve.
pub const CREDSPEC_ANNOTATION: &str = "kubectl-gmsa/credspec";

fn api_resource(api_version: &str, kind: &str, plural: &str) -> ApiResource {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        plural: plural.to_owned(),
    }
}

/// The API of a kind across all namespaces (for lists).
pub fn all_api(client: &Client, api_version: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
    Api::all_with(client.clone(), &api_resource(api_version, kind, plural))
}

/// A reference to one object: enough to read, apply or delete it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    /// Lower-case plural, as in RBAC rules and URLs.
    pub plural: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn of(value: &Value, plural: &str) -> ObjectRef {
        ObjectRef {
            api_version: value["apiVersion"].as_str().unwrap_or_default().to_owned(),
            kind: value["kind"].as_str().unwrap_or_default().to_owned(),
            plural: plural.to_owned(),
            namespace: value["metadata"]["namespace"].as_str().map(str::to_owned),
            name: value["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        }
    }

    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map(|(g, _)| g)
            .unwrap_or("")
    }

    /// The API of this object's kind, in its namespace (if any).
    pub fn api(&self, client: &Client) -> Api<DynamicObject> {
        let ar = api_resource(&self.api_version, &self.kind, &self.plural);
        match &self.namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
            None => Api::all_with(client.clone(), &ar),
        }
    }

    /// `kind/name` or `kind/name -n ns`, for messages.
    pub fn display(&self) -> String {
        let kind = self.kind.to_lowercase();
        match &self.namespace {
            Some(ns) => format!("{kind}/{} in namespace {ns}", self.name),
            None => format!("{kind}/{}", self.name),
        }
    }
}

impl ObjectOutcome {
    pub fn new(r: &ObjectRef, action: Action, object: Option<Value>) -> Self {
        ObjectOutcome {
            api_version: r.api_version.clone(),
            kind: r.kind.clone(),
            name: r.name.clone(),
            namespace: r.namespace.clone(),
            action,
            reason: None,
            object: object.map(redact),
        }
    }

    /// An object left alone, with why.
    pub fn skipped(r: &ObjectRef, reason: &str) -> Self {
        let mut o = ObjectOutcome::new(r, Action::Skipped, None);
        o.reason = Some(reason.into());
        o
    }
}

/// Read an object; `None` when it does not exist.
pub async fn get(client: &Client, r: &ObjectRef) -> Result<Option<Value>> {
    let obj = r
        .api(client)
        .get_opt(&r.name)
        .await
        .map_err(|e| classify(e).context(format_args!("read {}", r.display())))?;
    Ok(obj.map(|o| serde_json::to_value(o).expect("objects serialize")))
}

/// Read several objects at once; `None` for each that does not exist.
pub async fn get_many(cluster: &Cluster, refs: &[ObjectRef]) -> Result<Vec<Option<Value>>> {
    futures::future::try_join_all(refs.iter().map(|r| get(&cluster.client, r))).await
}

/// A JSON merge patch with our field manager.
pub async fn merge_patch(cluster: &Cluster, r: &ObjectRef, patch: &Value) -> Result<()> {
    let pp = PatchParams {
        field_manager: Some(MANAGER.into()),
        ..Default::default()
    };
    r.api(&cluster.client)
        .patch(&r.name, &pp, &Patch::Merge(patch))
        .await
        .map_err(|e| classify(e).context(format_args!("update {}", r.display())))?;
    Ok(())
}

/// Server-side apply with our field manager. `force` takes fields from other managers.
pub async fn apply(
    client: &Client,
    r: &ObjectRef,
    desired: &Value,
    dry_run: bool,
    force: bool,
) -> Result<Value> {
    let mut pp = PatchParams::apply(MANAGER);
    if force {
        pp = pp.force();
    }
    if dry_run {
        pp = pp.dry_run();
    }
    let obj = r
        .api(client)
        .patch(&r.name, &pp, &Patch::Apply(desired))
        .await
        .map_err(|e| {
            let err = classify(e);
            if err.kind == ErrorKind::Conflict {
                Error::new(ErrorKind::Conflict, format!("failed to apply {}: {}", r.display(), err.message))
                    .with_hint("another tool manages these fields; pass --overwrite (or --force) to take them over")
            } else {
                err.context(format_args!("apply {}", r.display()))
            }
        })?;
    Ok(serde_json::to_value(obj).expect("objects serialize"))
}

/// Take over an object another tool made (`--overwrite`): replace it with `desired`, keeping
/// only what the server allocated and will not change, then apply it as ours. A forced apply
/// alone would merge: the other tool's list entries and map keys (a second Service port, an
/// extra selector label) would stay.
pub async fn take_over(
    client: &Client,
    r: &ObjectRef,
    existing: &Value,
    desired: &Value,
    dry_run: bool,
) -> Result<Value> {
    let mut body = desired.clone();
    body["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"].clone();
    if r.kind == "Service" {
        for k in [
            "clusterIP",
            "clusterIPs",
            "ipFamilies",
            "ipFamilyPolicy",
            "healthCheckNodePort",
        ] {
            if let (Some(v), None) = (existing["spec"].get(k), body["spec"].get(k)) {
                body["spec"][k] = v.clone();
            }
        }
    }
    let obj: DynamicObject = serde_json::from_value(body).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("failed to build {}: {e}", r.display()),
        )
    })?;
    let pp = PostParams {
        dry_run,
        field_manager: Some(MANAGER.to_owned()),
    };
    let replaced = r
        .api(client)
        .replace(&r.name, &pp, &obj)
        .await
        .map_err(|e| classify(e).context(format_args!("take over {}", r.display())))?;
    if dry_run {
        // A dry-run apply would run against the stored object, not the replaced one.
        return Ok(serde_json::to_value(replaced).expect("objects serialize"));
    }
    apply(client, r, desired, false, true).await
}

/// Delete an object; `false` when it was already gone.
pub async fn delete(client: &Client, r: &ObjectRef, dry_run: bool) -> Result<bool> {
    let dp = DeleteParams {
        dry_run,
        ..DeleteParams::default()
    };
    match r.api(client).delete(&r.name, &dp).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(e) => Err(classify(e).context(format_args!("delete {}", r.display()))),
    }
}

/// Does `existing` hold everything `desired` says (objects by key, arrays element-wise)?
/// Returns the JSON paths where they differ, empty when `existing` already matches.
pub fn differences(existing: &Value, desired: &Value) -> Vec<String> {
    fn walk(e: &Value, d: &Value, path: &str, out: &mut Vec<String>) {
        match (e, d) {
            (Value::Object(eo), Value::Object(dobj)) => {
                for (k, dv) in dobj {
                    let p = format!("{path}.{k}");
                    match eo.get(k) {
                        Some(ev) => walk(ev, dv, &p, out),
                        None => out.push(p),
                    }
                }
            }
            (Value::Array(ea), Value::Array(da)) => {
                if ea.len() != da.len() {
                    out.push(path.to_owned());
                } else {
                    for (i, (ev, dv)) in ea.iter().zip(da).enumerate() {
                        walk(ev, dv, &format!("{path}[{i}]"), out);
                    }
                }
            }
            (a, b) if a == b => {}
            _ => out.push(path.to_owned()),
        }
    }
    let mut out = vec![];
    walk(existing, desired, "", &mut out);
    out.into_iter()
        .map(|p| p.trim_start_matches('.').to_owned())
        .collect()
}

/// Does this object carry our `managed-by` label?
pub fn is_ours(obj: &Value) -> bool {
    obj["metadata"]["labels"][MANAGED_BY_LABEL].as_str() == Some(MANAGER)
}

/// The label selector of everything this tool made.
pub fn ours_selector() -> String {
    format!("{MANAGED_BY_LABEL}={MANAGER}")
}

pub const DEFAULT_CHUNK_SIZE: u32 = 500;

/// List every object of a kind across the cluster, `chunk` at a time (all at once with
/// `None` or 0), handing each to `each`. Lists narrowed by a label selector to a handful of
/// objects pass `None`: with a limit, the API server reads its store a page at a time until
/// it has found `limit` matches, which for a rare label means many reads instead of one.
pub async fn list_all(
    cluster: &Cluster,
    api_version: &str,
    kind: &str,
    plural: &str,
    selector: Option<&str>,
    chunk: Option<u32>,
    mut each: impl FnMut(&Value),
) -> Result<()> {
    let api = all_api(&cluster.client, api_version, kind, plural);
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
            .map_err(|e| classify(e).context(format_args!("list {plural}")))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_are_subset_based() {
        let existing =
            json!({"metadata": {"name": "a", "uid": "x"}, "rules": [{"verbs": ["use"], "x": 1}]});
        assert!(differences(
            &existing,
            &json!({"metadata": {"name": "a"}, "rules": [{"verbs": ["use"]}]})
        )
        .is_empty());
        assert_eq!(
            differences(
                &existing,
                &json!({"metadata": {"name": "b"}, "rules": [{"verbs": ["use", "get"]}]})
            ),
            vec!["metadata.name", "rules[0].verbs"]
        );
    }
}
