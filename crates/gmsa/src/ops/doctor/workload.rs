//! The workload layer: what a workload's pod template asks for (a credential spec that
//! exists, that its service account may `use`, on Windows nodes, with a hostname and user
//! that work), what its pods carry (the inlined contents equal the resource's), whether
//! its namespace's DNS can resolve the domain, and what its recent events say. The rules
//! are pure functions over what was read; `checks` reads and calls them.

use std::collections::BTreeMap;

use futures::future::join_all;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Pod, PodSpec};
use kube::api::{Api, ListParams};

use super::report::{Check, Layer};
use super::scope::{Found, Workload, WorkloadKind};
use crate::admission::{contents_equal, inline_contents, settings_of};
use crate::cluster::{self, access, Cluster};

const W: Layer = Layer::Workload;

/// The `kubectl gmsa attach` command that sets what this workload lacks.
pub fn attach_command(w: &Workload, credspec: &str, bind: bool) -> String {
    format!(
        "kubectl gmsa attach {}/{} -n {} --credspec-name {credspec}{}",
        w.kind.word(),
        w.name,
        w.namespace,
        if bind { " --bind" } else { "" }
    )
}

/// Every check of one workload.
pub async fn checks(cluster: &Cluster, w: &Workload, found: &Found) -> Vec<Check> {
    let subject = w.subject();
    let mut out = vec![];
    let Some(spec) = w.template.spec.as_ref() else {
        return vec![Check::fail(
            W,
            "pod-template",
            &subject,
            "no pod spec",
            "fix the workload's manifest",
        )];
    };
    if w.settings.is_empty() {
        out.push(Check::fail(
            W,
            "gmsa-setting",
            &subject,
            "no container of this workload names a credential spec (securityContext.windowsOptions.gmsaCredentialSpecName)",
            attach_command(w, "<credspec>", true),
        ));
    }
    for s in &w.settings {
        if s.name.is_none() {
            out.push(Check::fail(
                W,
                "gmsa-setting",
                &subject,
                format!("{} sets gmsaCredentialSpec contents without gmsaCredentialSpecName; the webhook refuses such pods", s.place),
                "set gmsaCredentialSpecName and drop gmsaCredentialSpec (the webhook fills it in)",
            ));
        }
    }
    let names = crate::admission::names(&w.settings);
    let sa = w.service_account();
    let reviews = join_all(
        names
            .iter()
            .map(|n| access::may_use(&cluster.client, &w.namespace, &sa, n)),
    )
    .await;
    for (name, allowed) in names.iter().zip(reviews) {
        let places: Vec<String> = w
            .settings
            .iter()
            .filter(|s| s.name.as_deref() == Some(*name))
            .map(|s| s.place.to_string())
            .collect();
        match found.credspec(name) {
            Some(_) => out.push(Check::pass(W, "credspec-exists", &subject, format!("credspec/{name} exists (named at {})", places.join(", ")))),
            None => out.push(Check::fail(
                W,
                "credspec-exists",
                &subject,
                format!("credspec/{name}, named at {}, does not exist: the webhook refuses the pods", places.join(", ")),
                format!("kubectl gmsa add-credspec --credspec-file <{name}.json> --credspec-name {name} --service-account {}:{sa}", w.namespace),
            )),
        }
        out.push(match allowed {
            Ok(true) => Check::pass(W, "service-account-may-use", &subject, format!("serviceaccount {}/{sa} may use credspec/{name} (at {})", w.namespace, places.join(", "))),
            Ok(false) => Check::fail(
                W,
                "service-account-may-use",
                &subject,
                format!("serviceaccount {}/{sa} may not use credspec/{name}: the webhook refuses the pods (\"not authorized to `use` GMSA cred spec\")", w.namespace),
                attach_command(w, name, true),
            ),
            Err(e) => Check::fail(W, "service-account-may-use", &subject, format!("could not ask: {e}"), "run the doctor with an identity that may create localsubjectaccessreviews"),
        });
    }
    out.extend(template_checks(w, spec));
    let domains: Vec<String> = names
        .iter()
        .filter_map(|n| found.credspec(n))
        .filter_map(|c| {
            c.spec
                .as_ref()
                .map(|s| s.domain_join_config.dns_name.clone())
        })
        .collect();
    let (pods, events, coredns) =
        tokio::join!(pods_of(cluster, w), events_of(cluster, w), coredns(cluster));
    out.push(dns_check(&subject, spec, &domains, coredns.as_deref()));
    match pods {
        Ok(pods) => out.extend(pod_contents_checks(w, &pods, found)),
        Err(e) => out.push(Check::skipped(
            W,
            "inlined-contents",
            &subject,
            format!("could not list the pods: {e}"),
        )),
    }
    match events {
        Ok(ev) => out.push(events_check(&subject, &ev)),
        Err(e) => out.push(Check::skipped(
            W,
            "events",
            &subject,
            format!("could not list events: {e}"),
        )),
    }
    out
}

/// Whether a pod spec lands on Windows nodes: a `kubernetes.io/os: windows` node selector,
/// or a required node affinity every term of which asks for it.
pub fn selects_windows(spec: &PodSpec) -> bool {
    let os_keys = ["kubernetes.io/os", "beta.kubernetes.io/os"];
    if spec.node_selector.as_ref().is_some_and(|m| {
        os_keys
            .iter()
            .any(|k| m.get(*k).is_some_and(|v| v == "windows"))
    }) {
        return true;
    }
    let terms = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .map(|r| r.node_selector_terms.clone())
        .unwrap_or_default();
    !terms.is_empty()
        && terms.iter().all(|t| {
            t.match_expressions.iter().flatten().any(|e| {
                os_keys.contains(&e.key.as_str())
                    && e.operator == "In"
                    && e.values.iter().flatten().all(|v| v == "windows")
            })
        })
}

/// The users a gMSA acts as: services must run as Local System or Network Service.
fn acts_as_gmsa(user: &str) -> bool {
    let u = user.to_ascii_lowercase();
    matches!(
        u.as_str(),
        "nt authority\\system"
            | "nt authority\\network service"
            | "nt authority\\networkservice"
            | "localsystem"
            | "networkservice"
    )
}

/// Checks of the pod template alone: Windows nodes, hostname, runAsUserName.
pub fn template_checks(w: &Workload, spec: &PodSpec) -> Vec<Check> {
    let subject = w.subject();
    let mut out = vec![];
    let first_name = w
        .settings
        .iter()
        .find_map(|s| s.name.clone())
        .unwrap_or_else(|| "<credspec>".into());
    out.push(if selects_windows(spec) {
        Check::pass(W, "windows-nodes", &subject, "the pods select Windows nodes (kubernetes.io/os: windows)")
    } else {
        Check::fail(
            W,
            "windows-nodes",
            &subject,
            "nothing keeps the pods off Linux nodes: no nodeSelector kubernetes.io/os: windows and no such required node affinity",
            format!("{} (adds the selector), or set spec{}.nodeSelector: {{kubernetes.io/os: windows}}", attach_command(w, &first_name, false), template_path(w.kind)),
        )
    });
    match spec.hostname.as_deref().filter(|h| !h.is_empty()) {
        Some(h) => {
            let several = w.replicas().is_none_or(|r| r > 1);
            if several {
                let n = w
                    .replicas()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "one per node".into());
                out.push(Check::fail(
                    W,
                    "fixed-hostname",
                    &subject,
                    format!("every replica ({n}) gets the hostname {h}: containers with the same name on the same gMSA break each other's domain sessions"),
                    format!("remove spec{}.hostname (each pod then takes its own name)", template_path(w.kind)),
                ));
            } else {
                out.push(Check::pass(
                    W,
                    "fixed-hostname",
                    &subject,
                    format!("hostname {h} on a single replica"),
                ));
            }
            if h.len() > 15 {
                out.push(Check::warn(
                    W,
                    "hostname-length",
                    &subject,
                    format!("hostname {h} has {} characters; Windows cuts the computer name to 15 (NetBIOS)", h.len()),
                    format!("set spec{}.hostname to 15 characters or fewer", template_path(w.kind)),
                ));
            } else {
                out.push(Check::pass(
                    W,
                    "hostname-length",
                    &subject,
                    format!("hostname {h} fits NetBIOS's 15 characters"),
                ));
            }
        }
        None => out.push(Check::pass(
            W,
            "fixed-hostname",
            &subject,
            "no fixed hostname: each pod takes its own",
        )),
    }
    let mut users = vec![];
    if let Some(u) = spec
        .security_context
        .as_ref()
        .and_then(|s| s.windows_options.as_ref())
        .and_then(|o| o.run_as_user_name.clone())
    {
        users.push(("pod level".to_owned(), u));
    }
    for c in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
    {
        if let Some(u) = c
            .security_context
            .as_ref()
            .and_then(|s| s.windows_options.as_ref())
            .and_then(|o| o.run_as_user_name.clone())
        {
            users.push((format!("container {}", c.name), u));
        }
    }
    let odd: Vec<String> = users
        .iter()
        .filter(|(_, u)| !acts_as_gmsa(u))
        .map(|(p, u)| format!("{u} ({p})"))
        .collect();
    out.push(if odd.is_empty() {
        let what = if users.is_empty() { "runAsUserName not set: the image's user; run the service itself as Network Service or Local System".to_owned() } else { format!("runs as {}", users.iter().map(|(_, u)| u.as_str()).collect::<Vec<_>>().join(", ")) };
        Check::pass(W, "run-as-user", &subject, what)
    } else {
        Check::warn(
            W,
            "run-as-user",
            &subject,
            format!("runs as {}: only Local System and Network Service act as the gMSA on the network", odd.join(", ")),
            "set windowsOptions.runAsUserName to \"NT AUTHORITY\\\\NETWORK SERVICE\" (or run the app's service or IIS app pool as Network Service)",
        )
    });
    out
}

fn template_path(kind: WorkloadKind) -> &'static str {
    match kind {
        WorkloadKind::Pod => "",
        WorkloadKind::CronJob => ".jobTemplate.spec.template.spec",
        _ => ".template.spec",
    }
}

/// Can the pods resolve the domain: their own `dnsConfig` nameservers, or a server block
/// for the domain in CoreDNS's Corefile.
pub fn dns_check(
    subject: &str,
    spec: &PodSpec,
    domains: &[String],
    corefile: Option<&str>,
) -> Check {
    let Some(domain) = domains.first() else {
        return Check::skipped(
            W,
            "dns",
            subject,
            "no credential spec to take the domain from",
        );
    };
    let own = spec
        .dns_config
        .as_ref()
        .and_then(|d| d.nameservers.clone())
        .unwrap_or_default();
    if !own.is_empty() {
        return Check::pass(
            W,
            "dns",
            subject,
            format!(
                "the pods ask their own nameservers {} (dnsConfig)",
                own.join(", ")
            ),
        );
    }
    if let Some(c) = corefile {
        if corefile_zones(c).iter().any(|z| {
            z.eq_ignore_ascii_case(domain)
                || domain
                    .to_ascii_lowercase()
                    .ends_with(&format!(".{}", z.to_ascii_lowercase()))
        }) {
            return Check::pass(
                W,
                "dns",
                subject,
                format!("cluster DNS (CoreDNS) has a server block for {domain}"),
            );
        }
    }
    Check::warn(
        W,
        "dns",
        subject,
        format!("no nameserver for {domain} in the pods' dnsConfig and no server block for it in CoreDNS: the pods find a domain controller only if cluster DNS's upstream knows the domain"),
        format!("add to the coredns ConfigMap (kube-system): `{domain}:53 {{ forward . <DC IP> }}`, or set spec.dnsConfig.nameservers to the DCs"),
    )
}

/// The zones of a Corefile's server blocks (`contoso.com:53 {` gives `contoso.com`).
pub fn corefile_zones(corefile: &str) -> Vec<String> {
    let mut out = vec![];
    let mut depth = 0i32;
    for line in corefile.lines() {
        let l = line.split('#').next().unwrap_or_default().trim();
        if depth == 0 && l.ends_with('{') {
            for key in l.trim_end_matches('{').split_whitespace() {
                let k = key.trim_start_matches("dns://").trim_end_matches(':');
                let zone = k
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches('.');
                if !zone.is_empty() {
                    out.push(zone.to_owned());
                }
            }
        }
        depth += l.matches('{').count() as i32 - l.matches('}').count() as i32;
    }
    out
}

/// The pods carry inlined contents equal to the resource's (the mutation ran, no stale copy).
pub fn pod_contents_checks(w: &Workload, pods: &[Pod], found: &Found) -> Vec<Check> {
    let subject = w.subject();
    if pods.is_empty() {
        return vec![Check::skipped(
            W,
            "inlined-contents",
            &subject,
            "no pods yet",
        )];
    }
    let recreate = match w.kind {
        WorkloadKind::Pod => format!("kubectl delete pod {} -n {} and create it again (the webhook fills the contents in at creation)", w.name, w.namespace),
        WorkloadKind::Deployment | WorkloadKind::StatefulSet | WorkloadKind::DaemonSet => {
            format!("kubectl rollout restart {}/{} -n {} (new pods get the current contents)", w.kind.word(), w.name, w.namespace)
        }
        _ => format!("delete the pods of {}/{} so that new ones are created", w.kind.word(), w.name),
    };
    let mut out = vec![];
    for pod in pods {
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        let Some(spec) = pod.spec.as_ref() else {
            continue;
        };
        for s in settings_of(spec) {
            let Some(name) = s.name.as_deref() else {
                continue;
            };
            let Some(c) = found.credspec(name) else {
                continue;
            };
            let expected = match inline_contents(name, &c.resource) {
                Ok(e) => e,
                Err(_) => continue,
            };
            let sub = format!("pod/{}/{pod_name}", w.namespace);
            out.push(match s.contents.as_deref() {
                None => Check::fail(
                    W,
                    "inlined-contents",
                    &sub,
                    format!("{} names credspec/{name} but carries no contents: the webhook's mutation did not run when the pod was created", s.place),
                    format!("check the webhook (kubectl gmsa status), then {recreate}"),
                ),
                Some(inlined) => match contents_equal(inlined, &expected) {
                    Ok(true) => Check::pass(W, "inlined-contents", &sub, format!("{} carries the contents of credspec/{name}", s.place)),
                    Ok(false) => Check::fail(
                        W,
                        "inlined-contents",
                        &sub,
                        format!("{} carries contents that differ from credspec/{name} (a stale copy: the resource changed after the pod was created, or the contents were written by hand)", s.place),
                        recreate.clone(),
                    ),
                    Err(e) => Check::fail(W, "inlined-contents", &sub, format!("{}: {e}", s.place), recreate.clone()),
                },
            });
        }
    }
    if out.is_empty() {
        out.push(Check::skipped(
            W,
            "inlined-contents",
            &subject,
            "no pod names an existing credential spec",
        ));
    }
    out
}

/// Map recent warning events to their causes.
pub fn events_check(subject: &str, events: &[Event]) -> Check {
    let mut causes: BTreeMap<&str, (String, &str)> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e.type_.as_deref() == Some("Warning"))
    {
        let m = e.message.clone().unwrap_or_default();
        let l = m.to_ascii_lowercase();
        let (cause, fix) = if l.contains("winapi error")
            || l.contains("hcs") && l.contains("credential")
        {
            ("the container host could not use the credential spec (an account or domain the host cannot reach, or a gMSA the host may not read)", "kubectl gmsa doctor credspec/<name> --server ldaps://<dc> (checks the spec against Active Directory)")
        } else if l.contains("not authorized to `use`") || l.contains("not authorized to use") {
            ("the webhook refused a pod: its service account may not use the credential spec", "kubectl gmsa attach <workload> --credspec-name <name> --bind (or kubectl gmsa bind-role)")
        } else if l.contains("does not match the contents") {
            (
                "the webhook refused a pod: its inlined contents differ from the resource",
                "drop gmsaCredentialSpec from the pod template (the webhook fills it in)",
            )
        } else if l.contains("cred spec") && l.contains("does not exist") {
            (
                "the webhook refused a pod: the credential spec does not exist",
                "kubectl gmsa add-credspec ...",
            )
        } else if l.contains("failed calling webhook") && l.contains("gmsa") {
            (
                "the API server could not reach the gMSA webhook",
                "kubectl gmsa status (then kubectl gmsa install-webhook)",
            )
        } else {
            continue;
        };
        causes.entry(cause).or_insert((m, fix));
    }
    if causes.is_empty() {
        return Check::pass(W, "events", subject, "no warning events about gMSA");
    }
    let message = causes
        .iter()
        .map(|(c, (m, _))| format!("{c}: \"{m}\""))
        .collect::<Vec<_>>()
        .join("; ");
    let fix = causes
        .values()
        .map(|(_, f)| *f)
        .collect::<Vec<_>>()
        .join("; ");
    Check::fail(W, "events", subject, message, fix)
}

async fn pods_of(cluster: &Cluster, w: &Workload) -> crate::error::Result<Vec<Pod>> {
    if w.kind == WorkloadKind::Pod {
        return Ok(serde_json::from_value(w.object.clone())
            .into_iter()
            .collect());
    }
    w.selected_pods(cluster).await
}

async fn events_of(cluster: &Cluster, w: &Workload) -> crate::error::Result<Vec<Event>> {
    let api: Api<Event> = Api::namespaced(cluster.client.clone(), &w.namespace);
    let prefix = format!("{}-", w.name);
    api.list(&ListParams::default())
        .await
        .map(|l| {
            l.items
                .into_iter()
                .filter(|e| {
                    e.involved_object
                        .name
                        .as_deref()
                        .is_some_and(|n| n == w.name || n.starts_with(&prefix))
                })
                .collect()
        })
        .map_err(|e| cluster::classify(e).context("list events"))
}

async fn coredns(cluster: &Cluster) -> Option<String> {
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), "kube-system");
    api.get_opt("coredns")
        .await
        .ok()
        .flatten()
        .and_then(|c| c.data)
        .and_then(|d| d.get("Corefile").cloned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::doctor::Verdict;
    use serde_json::json;

    fn workload(kind: WorkloadKind, spec: serde_json::Value, replicas: i64) -> Workload {
        let obj = json!({ "metadata": { "name": "web", "namespace": "shop" }, "spec": { "replicas": replicas, "template": { "metadata": {}, "spec": spec } } });
        let obj = if kind == WorkloadKind::Pod {
            json!({ "metadata": obj["metadata"], "spec": spec })
        } else {
            obj
        };
        Workload::from_object(kind, "apps/v1", obj).unwrap()
    }

    fn find<'a>(checks: &'a [Check], id: &str) -> &'a Check {
        checks
            .iter()
            .find(|c| c.check == id)
            .unwrap_or_else(|| panic!("no {id} in {checks:#?}"))
    }

    #[test]
    fn windows_selector_by_node_selector_or_affinity() {
        let base = json!({ "containers": [{ "name": "a" }], "securityContext": { "windowsOptions": { "gmsaCredentialSpecName": "w" } } });
        let w = workload(WorkloadKind::Deployment, base.clone(), 1);
        let c = template_checks(&w, w.template.spec.as_ref().unwrap());
        let sel = find(&c, "windows-nodes");
        assert_eq!(sel.status, Verdict::Fail);
        assert!(
            sel.fix
                .as_ref()
                .unwrap()
                .contains("kubectl gmsa attach deployment/web -n shop --credspec-name w"),
            "{sel:?}"
        );
        let mut with = base.clone();
        with["nodeSelector"] = json!({ "kubernetes.io/os": "windows" });
        let w = workload(WorkloadKind::Deployment, with, 1);
        assert!(selects_windows(w.template.spec.as_ref().unwrap()));
        let mut aff = base;
        aff["affinity"] = json!({ "nodeAffinity": { "requiredDuringSchedulingIgnoredDuringExecution": { "nodeSelectorTerms": [{ "matchExpressions": [{ "key": "kubernetes.io/os", "operator": "In", "values": ["windows"] }] }] } } });
        let w = workload(WorkloadKind::Deployment, aff, 1);
        assert!(selects_windows(w.template.spec.as_ref().unwrap()));
    }

    #[test]
    fn hostname_and_user_pitfalls() {
        let spec = json!({ "hostname": "averyveryverylonghost", "containers": [{ "name": "a", "securityContext": { "windowsOptions": { "runAsUserName": "ContainerUser" } } }] });
        let w = workload(WorkloadKind::Deployment, spec.clone(), 3);
        let c = template_checks(&w, w.template.spec.as_ref().unwrap());
        assert_eq!(find(&c, "fixed-hostname").status, Verdict::Fail);
        assert!(find(&c, "fixed-hostname").message.contains("(3)"));
        assert_eq!(find(&c, "hostname-length").status, Verdict::Warn);
        assert_eq!(find(&c, "run-as-user").status, Verdict::Warn);
        let w = workload(WorkloadKind::Deployment, spec, 1);
        let c = template_checks(&w, w.template.spec.as_ref().unwrap());
        assert_eq!(find(&c, "fixed-hostname").status, Verdict::Pass);
        let ok = json!({ "containers": [{ "name": "a", "securityContext": { "windowsOptions": { "runAsUserName": "NT AUTHORITY\\NETWORK SERVICE" } } }] });
        let w = workload(WorkloadKind::Pod, ok, 1);
        assert_eq!(
            find(
                &template_checks(&w, w.template.spec.as_ref().unwrap()),
                "run-as-user"
            )
            .status,
            Verdict::Pass
        );
    }

    #[test]
    fn corefile_server_blocks() {
        let corefile = ".:53 {\n    errors\n    forward . /etc/resolv.conf\n}\ncontoso.com:53 {\n    forward . 10.0.0.4\n}\n";
        assert_eq!(corefile_zones(corefile), vec!["contoso.com".to_owned()]);
        let spec: PodSpec = serde_json::from_value(json!({ "containers": [] })).unwrap();
        let d = vec!["contoso.com".to_owned()];
        assert_eq!(
            dns_check("s", &spec, &d, Some(corefile)).status,
            Verdict::Pass
        );
        assert_eq!(
            dns_check("s", &spec, &["fabrikam.com".into()], Some(corefile)).status,
            Verdict::Warn
        );
        let own: PodSpec = serde_json::from_value(
            json!({ "containers": [], "dnsConfig": { "nameservers": ["10.0.0.4"] } }),
        )
        .unwrap();
        assert_eq!(
            dns_check("s", &own, &["fabrikam.com".into()], None).status,
            Verdict::Pass
        );
    }

    #[test]
    fn events_mapped_to_causes() {
        let ev = |t: &str, m: &str| -> Event {
            serde_json::from_value(
                json!({ "metadata": {}, "involvedObject": {}, "type": t, "message": m }),
            )
            .unwrap()
        };
        assert_eq!(
            events_check("s", &[ev("Normal", "Scheduled")]).status,
            Verdict::Pass
        );
        // From the troubleshooting page and issue reports.
        let winapi = ev("Warning", "Error: failed to create containerd container: hcs::CreateComputeSystem web: The requested operation for attach or detach failed: winapi error #2147942487");
        let c = events_check("s", &[winapi]);
        assert_eq!(c.status, Verdict::Fail);
        assert!(
            c.message.contains("could not use the credential spec"),
            "{}",
            c.message
        );
        let denied = ev("Warning", "Error creating: admission webhook \"admission.gmsa-webhook.kubernetes.io\" denied the request: service account \"default\" is not authorized to `use` GMSA cred spec \"webapp01\"");
        let c = events_check("s", &[denied]);
        assert!(
            c.message.contains("may not use the credential spec"),
            "{}",
            c.message
        );
        assert!(c.fix.unwrap().contains("--bind"));
    }
}
