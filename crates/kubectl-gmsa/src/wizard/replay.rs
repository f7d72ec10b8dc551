//! The replay: the non-interactive command lines that do what the wizard did.

use gmsa::cluster::webhook::FailurePolicy;
use gmsa::directory::PASSWORD_ENV;

use super::plan::{Origin, Plan};
use crate::args::ClusterArgs;

/// Quote a word for a POSIX shell when it needs it.
pub(crate) fn sh(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The non-interactive command lines that do what the wizard did (comments start with #).
/// No secret is ever part of them: passwords are named by where they are read from.
pub(crate) fn equivalent_commands(c: &ClusterArgs, plan: &Plan) -> Vec<String> {
    let mut global = vec![];
    if let Some(k) = &c.kubeconfig {
        global.push(format!("--kubeconfig {}", sh(&k.display().to_string())));
    }
    if let Some(ctx) = &c.context {
        global.push(format!("--context {}", sh(ctx)));
    }
    let g = if global.is_empty() {
        String::new()
    } else {
        format!("{} ", global.join(" "))
    };
    let mut lines = vec![];
    if let Some(w) = &plan.webhook {
        let mut cmd = format!("kubectl gmsa {g}install-webhook");
        if let Some(n) = &w.name {
            cmd.push_str(&format!(" --name {}", sh(n)));
        }
        if let Some(ns) = &w.namespace {
            cmd.push_str(&format!(" -n {}", sh(ns)));
        }
        cmd.push_str(match w.failure_policy {
            FailurePolicy::Fail => " --failure-policy Fail",
            FailurePolicy::Ignore => " --failure-policy Ignore",
        });
        if w.cert_manager {
            cmd.push_str(" --cert-manager");
        }
        if !w.wait {
            cmd.push_str(" --no-wait");
        }
        lines.push(cmd);
    }
    let file = match &plan.origin {
        Origin::File(f) => f.display().to_string(),
        Origin::Pasted { file } => {
            lines.push(format!("# save the JSON you pasted as {file}"));
            file.clone()
        }
        Origin::Directory { request, file } => {
            let d = &request.directory;
            let mut cmd = format!(
                "kubectl gmsa new-credspec --account {}",
                sh(&request.account)
            );
            for x in &request.additional_accounts {
                cmd.push_str(&format!(" --additional-account {}", sh(x)));
            }
            if let Some(s) = &d.server {
                cmd.push_str(&format!(" --server {}", sh(s)));
            }
            if let Some(dom) = &d.domain {
                cmd.push_str(&format!(" --domain {}", sh(dom)));
            }
            if let Some(ns) = &d.dns_server {
                cmd.push_str(&format!(" --dns-server {}", sh(ns)));
            }
            if let Some(ca) = &d.ca_file {
                cmd.push_str(&format!(" --ca-file {}", sh(&ca.display().to_string())));
            }
            if let Some(u) = &d.user {
                lines.push(format!(
                    "# the password of {u}: from ${PASSWORD_ENV}, or typed at the hidden prompt"
                ));
                cmd.push_str(&format!(" --user {}", sh(u)));
            } else {
                lines.push("# Kerberos: with your ticket cache (kinit)".into());
            }
            if d.timeout_secs != Some(gmsa::directory::DEFAULT_TIMEOUT_SECS) {
                if let Some(t) = d.timeout_secs {
                    cmd.push_str(&format!(" --timeout {t}"));
                }
            }
            cmd.push_str(&format!(" --file {}", sh(file)));
            lines.push(cmd);
            file.clone()
        }
    };
    if let Some(s) = &plan.secret {
        lines.push(format!(
            "kubectl gmsa {g}create-secret {} -n {} --domain {} --username {} --password-stdin",
            sh(&s.secret_name),
            sh(s.namespace
                .as_deref()
                .unwrap_or(gmsa::cluster::objects::DEFAULT_SECRET_NAMESPACE)),
            sh(&s.domain),
            sh(&s.username)
        ));
    }
    let a = &plan.add;
    let mut cmd = format!("kubectl gmsa {g}add-credspec --credspec-file {}", sh(&file));
    if let Some(n) = &a.credspec_name {
        cmd.push_str(&format!(" --credspec-name {}", sh(n)));
    }
    if let Some(n) = &a.cluster_role_name {
        cmd.push_str(&format!(" --cluster-role-name {}", sh(n)));
    }
    for sa in &a.service_accounts {
        cmd.push_str(&format!(" --service-account {}", sh(sa)));
    }
    if let Some(ns) = &a.namespace {
        cmd.push_str(&format!(" -n {}", sh(ns)));
    }
    if let Some(h) = &a.host_account {
        cmd.push_str(&format!(" --secret-name {}", sh(&h.secret_name)));
        if let Some(ns) = &h.secret_namespace {
            cmd.push_str(&format!(" --secret-namespace {}", sh(ns)));
        }
        if let Some(p) = h.ccg_plugin {
            cmd.push_str(&format!(" --ccg-plugin {}", p.name()));
        }
        if let Some(i) = &h.plugin_input {
            cmd.push_str(&format!(" --plugin-input {}", sh(i)));
        }
    }
    if a.overwrite {
        cmd.push_str(" --overwrite");
    }
    lines.push(cmd);
    if let Some(w) = &plan.attach {
        let mut cmd = format!(
            "kubectl gmsa {g}attach {} --credspec-name {}",
            sh(&w.workload),
            sh(&w.credspec_name)
        );
        if let Some(ns) = &w.namespace {
            cmd.push_str(&format!(" -n {}", sh(ns)));
        }
        if w.bind {
            cmd.push_str(" --bind");
        }
        lines.push(cmd);
    }
    lines
}
