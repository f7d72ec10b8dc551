//! The manifests of the gMSA admission webhook as `install-webhook` writes them: namespace,
//! service account, RBAC, TLS secrets (or cert-manager objects), Deployment, PodDisruption-
//! Budget, Service, and the mutating and validating webhook configurations, scoped so that a
//! down webhook blocks as little as possible. Pure functions; the network is in `ops::webhook`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::object::{ObjectRef, MANAGED_BY_LABEL, MANAGER};
use super::tls::{self, KeyedCert};
pub use super::version::ServerVersion;
pub use super::webhook_input::{
    check_image, check_name, parse_node_selector, FailurePolicy, DEFAULT_IMAGE, DEFAULT_NAME,
    DEFAULT_NAMESPACE,
};
pub use super::webhook_owner::{owner_namespace, OWNER_ANNOTATION};
use crate::credspec::{GROUP, PLURAL};
use crate::error::Result;

/// `app.kubernetes.io/instance`: which install an object belongs to (the `--name`).
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
pub const APP_LABEL: &str = "app.kubernetes.io/name";
/// Put `kubectl-gmsa/webhook=disabled` on a namespace to keep its pods away from the webhook.
pub const OPT_OUT_LABEL: &str = "kubectl-gmsa/webhook";
pub const OPT_OUT_VALUE: &str = "disabled";
/// Pod template annotation naming the serving certificate, so a new certificate rolls the pods.
pub const CERT_SERIAL_ANNOTATION: &str = "kubectl-gmsa/certificate-serial";
pub const CERT_MANAGER_INJECT: &str = "cert-manager.io/inject-ca-from";
/// On the webhook configurations: the failure policy asked for (see `ops::webhook::enforce`).
pub const REQUESTED_POLICY_ANNOTATION: &str = "kubectl-gmsa/requested-failure-policy";
pub const MUTATING_WEBHOOK_NAME: &str = "admission-webhook.windows-gmsa.sigs.k8s.io";
pub const VALIDATING_WEBHOOK_NAME: &str = "admission-webhook.windows-gmsa.sigs.k8s.io";
const TLS_DIR: &str = "/tls";
/// Our own webhook's image (`crates/gmsa-webhook`), published by the release workflow.
pub const OUR_IMAGE: &str = concat!(
    "ghcr.io/kubectl-gmsa/gmsa-webhook:v",
    env!("CARGO_PKG_VERSION")
);
/// Deployment annotation naming which webhook server runs (`upstream` or `kubectl-gmsa`).
pub const SERVER_ANNOTATION: &str = "kubectl-gmsa/webhook-server";
/// The port our webhook listens on inside its pod (it runs as non-root: no port 443).
const OUR_PORT: u16 = 8443;

/// Which webhook server the Deployment runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WebhookServer {
    /// kubernetes-sigs/windows-gmsa's image (pod and containers; no init or ephemeral
    /// containers in v0.13.0).
    #[default]
    Upstream,
    /// Ours, `gmsa-webhook`: every place, ephemeral containers included, and key pair reload.
    KubectlGmsa,
}

impl WebhookServer {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookServer::Upstream => "upstream",
            WebhookServer::KubectlGmsa => "kubectl-gmsa",
        }
    }

    pub fn from_name(s: &str) -> Option<WebhookServer> {
        [WebhookServer::Upstream, WebhookServer::KubectlGmsa]
            .into_iter()
            .find(|w| w.as_str() == s)
    }

    /// The image it runs unless `--image` says otherwise.
    pub fn default_image(self) -> &'static str {
        match self {
            WebhookServer::Upstream => DEFAULT_IMAGE,
            WebhookServer::KubectlGmsa => OUR_IMAGE,
        }
    }

    fn port(self) -> u16 {
        match self {
            WebhookServer::Upstream => 443,
            WebhookServer::KubectlGmsa => OUR_PORT,
        }
    }
}

/// Where the webhook's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// Made by this tool: the CA (kept so re-runs reuse it), the CA bundle the API server
    /// trusts (the CA, plus the previous one during a CA rotation) and the serving pair.
    Generated {
        ca: KeyedCert,
        ca_bundle: String,
        serving: KeyedCert,
    },
    /// cert-manager issues both; the webhook configurations get the CA injected.
    CertManager { duration_hours: u64 },
}

/// Everything that decides the manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    pub name: String,
    pub namespace: String,
    pub image: String,
    pub server: WebhookServer,
    pub replicas: u32,
    pub tolerate_control_plane: bool,
    pub node_selector: BTreeMap<String, String>,
    pub failure_policy: FailurePolicy,
    /// Write the namespace (it does not exist yet, or it is ours).
    pub manage_namespace: bool,
    pub server_version: ServerVersion,
    pub tls: TlsSource,
}

/// The names of every object of one install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub name: String,
    pub namespace: String,
}

impl Names {
    pub fn new(name: &str, namespace: &str) -> Names {
        Names {
            name: name.into(),
            namespace: namespace.into(),
        }
    }
    pub fn tls_secret(&self) -> String {
        format!("{}-tls", self.name)
    }
    pub fn ca_secret(&self) -> String {
        format!("{}-ca", self.name)
    }
    pub fn server_name(&self) -> String {
        tls::service_server_name(&self.name, &self.namespace)
    }
    fn r(
        &self,
        api_version: &str,
        kind: &str,
        plural: &str,
        namespaced: bool,
        name: &str,
    ) -> ObjectRef {
        ObjectRef {
            api_version: api_version.into(),
            kind: kind.into(),
            plural: plural.into(),
            namespace: namespaced.then(|| self.namespace.clone()),
            name: name.into(),
        }
    }
    pub fn namespace_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: "Namespace".into(),
            plural: "namespaces".into(),
            namespace: None,
            name: self.namespace.clone(),
        }
    }
    pub fn deployment(&self) -> ObjectRef {
        self.r("apps/v1", "Deployment", "deployments", true, &self.name)
    }
    pub fn tls_secret_ref(&self) -> ObjectRef {
        self.r("v1", "Secret", "secrets", true, &self.tls_secret())
    }
    pub fn ca_secret_ref(&self) -> ObjectRef {
        self.r("v1", "Secret", "secrets", true, &self.ca_secret())
    }
    pub fn mutating(&self) -> ObjectRef {
        self.r(
            "admissionregistration.k8s.io/v1",
            "MutatingWebhookConfiguration",
            "mutatingwebhookconfigurations",
            false,
            &self.name,
        )
    }
    pub fn validating(&self) -> ObjectRef {
        self.r(
            "admissionregistration.k8s.io/v1",
            "ValidatingWebhookConfiguration",
            "validatingwebhookconfigurations",
            false,
            &self.name,
        )
    }
    pub fn pdb(&self, api_version: &str) -> ObjectRef {
        self.r(
            api_version,
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            true,
            &self.name,
        )
    }

    /// Everything an install may have written except the namespace and the CRD, in the order
    /// to delete it: webhook configurations first, so pods are never sent to a webhook that
    /// is going away.
    pub fn removable(&self, pdb_api_version: &str) -> Vec<ObjectRef> {
        let cm = "cert-manager.io/v1";
        vec![
            self.mutating(),
            self.validating(),
            self.deployment(),
            self.pdb(pdb_api_version),
            self.r("v1", "Service", "services", true, &self.name),
            self.r(cm, "Certificate", "certificates", true, &self.name),
            self.r(cm, "Issuer", "issuers", true, &self.ca_secret()),
            self.r(cm, "Certificate", "certificates", true, &self.ca_secret()),
            self.r(
                cm,
                "Issuer",
                "issuers",
                true,
                &format!("{}-selfsigned", self.name),
            ),
            self.tls_secret_ref(),
            self.ca_secret_ref(),
            self.r(
                "rbac.authorization.k8s.io/v1",
                "ClusterRoleBinding",
                "clusterrolebindings",
                false,
                &self.name,
            ),
            self.r(
                "rbac.authorization.k8s.io/v1",
                "ClusterRole",
                "clusterroles",
                false,
                &self.name,
            ),
            self.r("v1", "ServiceAccount", "serviceaccounts", true, &self.name),
        ]
    }
}

/// Does this object belong to the install called `name`?
pub fn is_instance(obj: &Value, name: &str) -> bool {
    super::is_ours(obj) && obj["metadata"]["labels"][INSTANCE_LABEL].as_str() == Some(name)
}

fn labels(name: &str) -> Value {
    json!({ APP_LABEL: "gmsa-webhook", INSTANCE_LABEL: name, MANAGED_BY_LABEL: MANAGER })
}

fn selector(name: &str) -> Value {
    json!({ APP_LABEL: "gmsa-webhook", INSTANCE_LABEL: name })
}

fn b64(bytes: &[u8]) -> Value {
    serde_json::to_value(k8s_openapi::ByteString(bytes.to_vec())).expect("bytes serialize")
}

fn meta(s: &WebhookSettings, name: &str, namespaced: bool) -> Value {
    let mut m = json!({ "name": name, "labels": labels(&s.name) });
    if namespaced {
        m["namespace"] = json!(s.namespace);
    } else {
        m["annotations"] = json!({ OWNER_ANNOTATION: format!("{}/{}", s.namespace, s.name) });
    }
    m
}

/// The CEL test, for webhook `matchConditions`, that a pod (as `o`) sets a gMSA field at pod
/// level or in any container, init container or ephemeral container.
pub fn uses_gmsa_expression(o: &str) -> String {
    let field = |base: &str| {
        format!(
            "(has({base}.securityContext) && has({base}.securityContext.windowsOptions) && \
             (has({base}.securityContext.windowsOptions.gmsaCredentialSpecName) || \
             has({base}.securityContext.windowsOptions.gmsaCredentialSpec)))"
        )
    };
    let list = |l: &str| {
        format!(
            "(has({o}.spec.{l}) && {o}.spec.{l}.exists(c, {}))",
            field("c")
        )
    };
    format!(
        "{} || {} || {} || {}",
        field(&format!("{o}.spec")),
        list("containers"),
        list("initContainers"),
        list("ephemeralContainers")
    )
}

fn match_conditions(validating: bool) -> Value {
    let expression = if validating {
        // On UPDATE the webhook also refuses removing or changing gMSA settings.
        format!(
            "({}) || (request.operation == 'UPDATE' && ({}))",
            uses_gmsa_expression("object"),
            uses_gmsa_expression("oldObject")
        )
    } else {
        uses_gmsa_expression("object")
    };
    json!([{ "name": "uses-gmsa", "expression": expression }])
}

/// Which namespaces the webhooks see: not kube-system, not the webhook's own, and not any
/// labelled `kubectl-gmsa/webhook=disabled`. (`kubernetes.io/metadata.name` exists from 1.21;
/// the webhook's own namespace also carries the opt-out label when this tool creates it.)
pub fn namespace_selector(own_namespace: &str) -> Value {
    let mut skip = vec!["kube-system".to_owned()];
    if own_namespace != "kube-system" {
        skip.push(own_namespace.to_owned());
    }
    json!({
        "matchExpressions": [
            { "key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": skip },
            { "key": OPT_OUT_LABEL, "operator": "NotIn", "values": [OPT_OUT_VALUE] }
        ]
    })
}

fn webhook_configuration(s: &WebhookSettings, validating: bool) -> Value {
    let names = Names::new(&s.name, &s.namespace);
    let (kind, path, operations, r) = if validating {
        (
            "ValidatingWebhookConfiguration",
            "/validate",
            json!(["CREATE", "UPDATE"]),
            names.validating(),
        )
    } else {
        (
            "MutatingWebhookConfiguration",
            "/mutate",
            json!(["CREATE"]),
            names.mutating(),
        )
    };
    let mut client_config = json!({
        "service": { "name": s.name, "namespace": s.namespace, "path": path, "port": 443 }
    });
    let mut metadata = meta(s, &r.name, false);
    metadata["annotations"][REQUESTED_POLICY_ANNOTATION] = json!(s.failure_policy.as_str());
    match &s.tls {
        TlsSource::Generated { ca_bundle, .. } => {
            client_config["caBundle"] = b64(ca_bundle.as_bytes())
        }
        TlsSource::CertManager { .. } => {
            metadata["annotations"][CERT_MANAGER_INJECT] =
                json!(format!("{}/{}", s.namespace, s.name))
        }
    }
    let mut hook = json!({
        "name": if validating { VALIDATING_WEBHOOK_NAME } else { MUTATING_WEBHOOK_NAME },
        "clientConfig": client_config,
        "rules": rules(s.server, operations),
        "failurePolicy": s.failure_policy.as_str(),
        "sideEffects": "None",
        "admissionReviewVersions": ["v1", "v1beta1"],
        "timeoutSeconds": 10,
        "namespaceSelector": namespace_selector(&s.namespace)
    });
    if s.server_version.has_match_conditions() {
        hook["matchConditions"] = match_conditions(validating);
    }
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "webhooks": [hook]
    })
}

/// Pods, and for our webhook also the pods/ephemeralcontainers subresource (UPDATE), which
/// upstream's webhook does not understand.
fn rules(server: WebhookServer, operations: Value) -> Value {
    let rule = |ops: Value, resource: &str| json!({ "operations": ops, "apiGroups": [""], "apiVersions": ["v1"], "resources": [resource], "scope": "Namespaced" });
    let mut rules = vec![rule(operations, "pods")];
    if server == WebhookServer::KubectlGmsa {
        rules.push(rule(json!(["UPDATE"]), "pods/ephemeralcontainers"));
    }
    Value::Array(rules)
}

fn secret(names: &Names, name: &str, type_: &str, data: &[(&str, &str)]) -> Value {
    let data: serde_json::Map<String, Value> = data
        .iter()
        .map(|(k, v)| ((*k).to_owned(), b64(v.as_bytes())))
        .collect();
    let metadata =
        json!({ "name": name, "namespace": names.namespace, "labels": labels(&names.name) });
    json!({ "apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": type_, "data": data })
}

/// The CA Secret (CA certificate and key, and the CA bundle to trust) and the serving
/// Secret the Deployment mounts (`tls.crt`, `tls.key`, `ca.crt`).
pub fn tls_secrets(
    names: &Names,
    ca: &KeyedCert,
    ca_bundle: &str,
    serving: &KeyedCert,
) -> Vec<(ObjectRef, Value)> {
    let ca_secret = secret(
        names,
        &names.ca_secret(),
        "Opaque",
        &[
            ("tls.crt", &ca.cert_pem),
            ("tls.key", &ca.key_pem),
            ("ca-bundle.crt", ca_bundle),
        ],
    );
    let tls_secret = secret(
        names,
        &names.tls_secret(),
        "kubernetes.io/tls",
        &[
            ("tls.crt", &serving.cert_pem),
            ("tls.key", &serving.key_pem),
            ("ca.crt", ca_bundle),
        ],
    );
    vec![
        (ObjectRef::of(&ca_secret, "secrets"), ca_secret),
        (ObjectRef::of(&tls_secret, "secrets"), tls_secret),
    ]
}

fn deployment(s: &WebhookSettings, cert_serial: Option<&str>) -> Value {
    let names = Names::new(&s.name, &s.namespace);
    let mut node_selector = json!({ "kubernetes.io/os": "linux" });
    for (k, v) in &s.node_selector {
        node_selector[k] = json!(v);
    }
    let mut pod_meta = json!({ "labels": labels(&s.name) });
    if let Some(serial) = cert_serial {
        pod_meta["annotations"] = json!({ CERT_SERIAL_ANNOTATION: serial });
    }
    let mut pod_spec = json!({
        "serviceAccountName": s.name,
        "nodeSelector": node_selector,
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [{
                    "weight": 100,
                    "podAffinityTerm": { "labelSelector": { "matchLabels": selector(&s.name) }, "topologyKey": "kubernetes.io/hostname" }
                }]
            }
        },
        "containers": [{
            "name": "webhook",
            "image": s.image,
            "imagePullPolicy": "IfNotPresent",
            "ports": [{ "name": "https", "containerPort": s.server.port(), "protocol": "TCP" }],
            "env": [
                { "name": "TLS_KEY", "value": format!("{TLS_DIR}/tls.key") },
                { "name": "TLS_CRT", "value": format!("{TLS_DIR}/tls.crt") }
            ],
            "readinessProbe": { "httpGet": { "scheme": "HTTPS", "path": "/health", "port": s.server.port() }, "periodSeconds": 5 },
            "securityContext": { "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true },
            "volumeMounts": [{ "name": "tls", "mountPath": TLS_DIR, "readOnly": true }]
        }],
        "volumes": [{ "name": "tls", "secret": { "secretName": names.tls_secret() } }]
    });
    if s.server == WebhookServer::KubectlGmsa {
        // Ours runs as a non-root user of a FROM-scratch image, with nothing to escalate.
        pod_spec["securityContext"] = json!({
            "runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
            "seccompProfile": { "type": "RuntimeDefault" }
        });
        pod_spec["containers"][0]["securityContext"]["capabilities"] = json!({ "drop": ["ALL"] });
    }
    if s.tolerate_control_plane {
        pod_spec["tolerations"] = json!([
            { "key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule" },
            { "key": "node-role.kubernetes.io/master", "operator": "Exists", "effect": "NoSchedule" }
        ]);
    }
    let mut metadata = meta(s, &s.name, true);
    if s.server != WebhookServer::Upstream {
        // Absent means upstream (every install before `--webhook` existed).
        metadata["annotations"] = json!({ SERVER_ANNOTATION: s.server.as_str() });
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": s.replicas,
            "selector": { "matchLabels": selector(&s.name) },
            "template": { "metadata": pod_meta, "spec": pod_spec }
        }
    })
}

fn cert_manager_objects(s: &WebhookSettings, duration_hours: u64) -> Vec<(ObjectRef, Value)> {
    let names = Names::new(&s.name, &s.namespace);
    let cm = "cert-manager.io/v1";
    let selfsigned = format!("{}-selfsigned", s.name);
    let renew_before = (duration_hours / 3).clamp(1, 720);
    let issuer = |name: &str, spec: Value| json!({ "apiVersion": cm, "kind": "Issuer", "metadata": meta(s, name, true), "spec": spec });
    let certificate = |name: &str, spec: Value| json!({ "apiVersion": cm, "kind": "Certificate", "metadata": meta(s, name, true), "spec": spec });
    let objs = vec![
        (issuer(&selfsigned, json!({ "selfSigned": {} })), "issuers"),
        (
            certificate(
                &names.ca_secret(),
                json!({
                    "isCA": true,
                    "commonName": names.ca_secret(),
                    "secretName": names.ca_secret(),
                    "duration": "87600h",
                    "privateKey": { "algorithm": "ECDSA", "size": 256 },
                    "issuerRef": { "name": selfsigned, "kind": "Issuer", "group": "cert-manager.io" }
                }),
            ),
            "certificates",
        ),
        (
            issuer(
                &names.ca_secret(),
                json!({ "ca": { "secretName": names.ca_secret() } }),
            ),
            "issuers",
        ),
        (
            certificate(
                &s.name,
                json!({
                    "secretName": names.tls_secret(),
                    "dnsNames": tls::service_dns_names(&s.name, &s.namespace),
                    "duration": format!("{duration_hours}h"),
                    "renewBefore": format!("{renew_before}h"),
                    "privateKey": { "algorithm": "ECDSA", "size": 256 },
                    "issuerRef": { "name": names.ca_secret(), "kind": "Issuer", "group": "cert-manager.io" }
                }),
            ),
            "certificates",
        ),
    ];
    objs.into_iter()
        .map(|(v, plural)| (ObjectRef::of(&v, plural), v))
        .collect()
}

/// What the webhook may do: read credential specs, ask access reviews, and (ours) read a
/// pod, whose service account the 1.20 ephemeral-containers request does not carry.
fn cluster_role_rules(server: WebhookServer) -> Value {
    let mut rules = vec![
        json!({ "apiGroups": [GROUP], "resources": [PLURAL], "verbs": ["get"] }),
        json!({ "apiGroups": ["authorization.k8s.io"], "resources": ["localsubjectaccessreviews"], "verbs": ["create"] }),
    ];
    if server == WebhookServer::KubectlGmsa {
        rules.push(json!({ "apiGroups": [""], "resources": ["pods"], "verbs": ["get"] }));
    }
    Value::Array(rules)
}

/// Every object of an install, in the order to apply it: CRD and namespace first, the
/// webhook configurations last (after what serves them).
pub fn manifests(s: &WebhookSettings) -> Vec<(ObjectRef, Value)> {
    let names = Names::new(&s.name, &s.namespace);
    let mut out: Vec<(Value, &str)> = vec![(super::crd::manifest(), "customresourcedefinitions")];
    if s.manage_namespace {
        let mut ns_labels = labels(&s.name);
        ns_labels[OPT_OUT_LABEL] = json!(OPT_OUT_VALUE);
        out.push((
            json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": s.namespace, "labels": ns_labels } }),
            "namespaces",
        ));
    }
    out.push((
        json!({ "apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(s, &s.name, true) }),
        "serviceaccounts",
    ));
    out.push((
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": meta(s, &s.name, false),
            "rules": cluster_role_rules(s.server)
        }),
        "clusterroles",
    ));
    out.push((
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": meta(s, &s.name, false),
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": s.name },
            "subjects": [{ "kind": "ServiceAccount", "name": s.name, "namespace": s.namespace }]
        }),
        "clusterrolebindings",
    ));
    let mut cert_manager = vec![];
    let serial = match &s.tls {
        TlsSource::Generated {
            ca,
            ca_bundle,
            serving,
        } => {
            for (_, v) in tls_secrets(&names, ca, ca_bundle, serving) {
                out.push((v, "secrets"));
            }
            tls::inspect(&serving.cert_pem).ok().map(|i| i.serial)
        }
        TlsSource::CertManager { duration_hours } => {
            cert_manager = cert_manager_objects(s, *duration_hours);
            None
        }
    };
    out.push((
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta(s, &s.name, true),
            "spec": {
                "selector": selector(&s.name),
                "ports": [{ "name": "https", "port": 443, "targetPort": s.server.port(), "protocol": "TCP" }]
            }
        }),
        "services",
    ));
    out.push((deployment(s, serial.as_deref()), "deployments"));
    if s.replicas > 1 {
        out.push((
            json!({
                "apiVersion": s.server_version.pdb_api_version(),
                "kind": "PodDisruptionBudget",
                "metadata": meta(s, &s.name, true),
                "spec": { "minAvailable": 1, "selector": { "matchLabels": selector(&s.name) } }
            }),
            "poddisruptionbudgets",
        ));
    }
    out.push((
        webhook_configuration(s, false),
        "mutatingwebhookconfigurations",
    ));
    out.push((
        webhook_configuration(s, true),
        "validatingwebhookconfigurations",
    ));
    let mut objects: Vec<(ObjectRef, Value)> = out
        .into_iter()
        .map(|(v, plural)| (ObjectRef::of(&v, plural), v))
        .collect();
    // cert-manager's objects go before the Service (right after RBAC).
    let at = objects
        .iter()
        .position(|(r, _)| r.kind == "Service")
        .unwrap_or(objects.len());
    objects.splice(at..at, cert_manager);
    objects
}

impl Names {
    /// The names of an install, defaults filled in and checked.
    pub fn checked(name: Option<&str>, namespace: Option<&str>) -> Result<Names> {
        let name = name.unwrap_or(DEFAULT_NAME);
        let namespace = namespace.unwrap_or(DEFAULT_NAMESPACE);
        check_name(name)?;
        crate::names::check_namespace(namespace)?;
        Ok(Names::new(name, namespace))
    }
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
