//! Rights for a test user across the cluster: a ClusterRole of the given rules, bound to that
//! user, both made as admin; the rules can be replaced, and `revoke` deletes both.

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, PostParams};
use serde_json::{json, Value};

use crate::admin;

/// A ClusterRole and the ClusterRoleBinding of it to one user, both named `name`.
pub struct Grant {
    pub name: String,
}

impl Grant {
    /// Make the role with `rules` (a JSON array of PolicyRules) and bind it to the user `user`.
    pub async fn new(name: &str, user: &str, rules: Value) -> Grant {
        let client = admin().await;
        let role: ClusterRole =
            serde_json::from_value(json!({ "metadata": { "name": name }, "rules": rules }))
                .unwrap();
        Api::<ClusterRole>::all(client.clone())
            .create(&PostParams::default(), &role)
            .await
            .unwrap();
        let binding: ClusterRoleBinding = serde_json::from_value(json!({
            "metadata": { "name": name },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name },
            "subjects": [{ "kind": "User", "name": user, "apiGroup": "rbac.authorization.k8s.io" }]
        }))
        .unwrap();
        Api::<ClusterRoleBinding>::all(client)
            .create(&PostParams::default(), &binding)
            .await
            .unwrap();
        Grant {
            name: name.to_owned(),
        }
    }

    /// Replace the role's rules.
    pub async fn set_rules(&self, rules: Value) {
        let api = Api::<ClusterRole>::all(admin().await);
        let mut role = api.get(&self.name).await.unwrap();
        role.rules = serde_json::from_value(rules).unwrap();
        api.replace(&self.name, &PostParams::default(), &role)
            .await
            .unwrap();
    }

    /// Delete the binding and the role.
    pub async fn revoke(self) {
        let client = admin().await;
        Api::<ClusterRoleBinding>::all(client.clone())
            .delete(&self.name, &Default::default())
            .await
            .unwrap();
        Api::<ClusterRole>::all(client)
            .delete(&self.name, &Default::default())
            .await
            .unwrap();
    }
}
