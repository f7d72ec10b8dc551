//! Step 7's preview: one line per object saying what applying will do to it (`create`,
//! `configure`, `unchanged`, read from the cluster), then the YAML when asked for
//! (`--show-yaml`, or "Show the YAML?" on a terminal).

use gmsa::cluster::{self, Cluster, ObjectRef};
use gmsa::ops::{ApplyOutcome, ObjectOutcome};
use gmsa::Error;
use serde_json::Value;

use super::ask::{say, Ask};
use crate::args::ObjectFormat;
use crate::output;

/// What applying `desired` will do to the object as it is now (`None`: absent).
pub(crate) fn verb(existing: Option<&Value>, desired: &Value) -> &'static str {
    let Some(existing) = existing else {
        return "create";
    };
    // Secrets are shown redacted: only their other fields can be compared.
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            m.remove("data");
            m.remove("stringData");
        }
        v
    };
    if cluster::is_ours(existing)
        && cluster::differences(&strip(existing), &strip(desired)).is_empty()
    {
        "unchanged"
    } else {
        "configure"
    }
}

/// One line: `create ClusterRole webapp01-gmsa-user` (`-n NAMESPACE` for namespaced ones).
fn line(verb: &str, o: &ObjectOutcome) -> String {
    let ns = o
        .namespace
        .as_deref()
        .map(|n| format!(" -n {n}"))
        .unwrap_or_default();
    format!("  {verb} {} {}{ns}", o.kind, o.name)
}

/// Read each object's current state and say, one line each, what applying will do. An
/// object that cannot be read (no right to, or its kind is not served yet) is "apply".
pub(crate) async fn summary(cluster: &Cluster, outcomes: &[&ApplyOutcome]) -> Vec<String> {
    let objects: Vec<&ObjectOutcome> = outcomes.iter().flat_map(|o| &o.objects).collect();
    let reads = read_all(cluster, &objects).await;
    objects
        .iter()
        .zip(reads)
        .map(|(o, existing)| {
            let desired = o.object.clone().unwrap_or(Value::Null);
            let v = match existing {
                Ok(e) => verb(e.as_ref(), &desired),
                Err(_) => "apply",
            };
            line(v, o)
        })
        .collect()
}

async fn read_all(
    cluster: &Cluster,
    objects: &[&ObjectOutcome],
) -> Vec<Result<Option<Value>, Error>> {
    let mut out = vec![];
    for o in objects {
        let r = ObjectRef {
            api_version: o.api_version.clone(),
            kind: o.kind.clone(),
            plural: format!("{}s", o.kind.to_lowercase()),
            namespace: o.namespace.clone(),
            name: o.name.clone(),
        };
        out.push(cluster::get(&cluster.client, &r).await);
    }
    out
}

/// The preview: the summary lines, then the YAML when `show_yaml` or the user asks.
pub(crate) async fn show(
    ask: &Ask<'_>,
    cluster: &Cluster,
    outcomes: &[&ApplyOutcome],
    show_yaml: bool,
) -> Result<(), Error> {
    say("\nThese objects will be applied:");
    for l in summary(cluster, outcomes).await {
        say(&l);
    }
    let yaml =
        show_yaml || (ask.interactive && ask.confirm("Show the YAML of these objects?", false)?);
    if yaml {
        for o in outcomes {
            output::objects(
                &mut std::io::stderr(),
                output::outcome_objects(o),
                ObjectFormat::Yaml,
            )
            .ok();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::verb;
    use serde_json::json;

    fn ours(extra: serde_json::Value) -> serde_json::Value {
        let mut v = json!({"kind": "ClusterRole", "metadata": {"name": "r", "labels": {"app.kubernetes.io/managed-by": "kubectl-gmsa"}}});
        if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            for (k, x) in e {
                m.insert(k.clone(), x.clone());
            }
        }
        v
    }

    #[test]
    fn absent_is_create_same_is_unchanged_else_configure() {
        let desired = ours(json!({"rules": [{"verbs": ["use"]}]}));
        assert_eq!(verb(None, &desired), "create");
        assert_eq!(verb(Some(&desired), &desired), "unchanged");
        let other = ours(json!({"rules": [{"verbs": ["get"]}]}));
        assert_eq!(verb(Some(&other), &desired), "configure");
    }

    #[test]
    fn a_secret_is_compared_without_its_redacted_data() {
        let existing = ours(json!({"kind": "Secret", "data": {"tls.crt": "AAAA"}}));
        let desired = ours(json!({"kind": "Secret", "data": {"tls.crt": "REDACTED"}}));
        assert_eq!(verb(Some(&existing), &desired), "unchanged");
    }
}
