//! Who owns a webhook install's cluster-wide objects (both webhook configurations,
//! ClusterRole, ClusterRoleBinding): the record install-webhook writes on them, and for
//! objects written before that record, the namespace they point at.

use serde_json::Value;

/// On the cluster-scoped objects of an install: `<namespace>/<name>` of the install that owns
/// them, so another install never takes them over (or deletes them) by accident.
pub const OWNER_ANNOTATION: &str = "kubectl-gmsa/owner";

/// The namespace of the install that owns a cluster-scoped object: its owner record, or for
/// objects written before owners were recorded, the namespace they point at (the webhook
/// configurations' Service, the ClusterRoleBinding's ServiceAccount). `None` when the object
/// says nothing (an old ClusterRole).
pub fn owner_namespace(obj: &Value) -> Option<String> {
    if let Some(owner) = obj["metadata"]["annotations"][OWNER_ANNOTATION].as_str() {
        return owner.split_once('/').map(|(ns, _)| ns.to_owned());
    }
    let pointed = match obj["kind"].as_str() {
        Some("MutatingWebhookConfiguration") | Some("ValidatingWebhookConfiguration") => {
            &obj["webhooks"][0]["clientConfig"]["service"]["namespace"]
        }
        Some("ClusterRoleBinding") => &obj["subjects"][0]["namespace"],
        _ => &Value::Null,
    };
    pointed.as_str().map(str::to_owned)
}
