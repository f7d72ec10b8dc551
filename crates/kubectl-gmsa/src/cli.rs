//! The command line's top level: the parser and the command enum, whose doc comments are
//! the `--help` text. Each command's own flags are in `commands/<family>.rs`, the shared
//! flag groups in `args.rs`.

use clap::{Parser, Subcommand};

use crate::args::ClusterArgs;
use crate::commands::{attach, credspecs, directory, doctor, misc, webhook};

/// Run Windows containers as a gMSA on any Kubernetes cluster.
///
/// Takes a Windows container from "we have a gMSA in Active Directory" to "this pod runs as
/// that gMSA": credential specs (lint, convert, add, remove), who may use them (bind-role),
/// and what is in the cluster (get, check-access).
///
/// Typical first run:
///   kubectl gmsa lint webapp01.json
///   kubectl gmsa add-credspec --credspec-file webapp01.json \
///       --credspec-name webapp01 --cluster-role-name webapp01-user \
///       --service-account app -n shop
///   kubectl gmsa get
#[derive(Debug, Parser)]
#[command(name = "kubectl-gmsa", bin_name = "kubectl gmsa", version = crate::version::SHORT, long_version = crate::version::LONG)]
#[command(
    disable_help_subcommand = true,
    max_term_width = 100,
    verbatim_doc_comment
)]
pub struct Cli {
    /// kubectl's connection flags given before the command (its own flags win).
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check credential spec files against the rules Windows and the webhook apply.
    ///
    /// Prints every finding with its JSON path; exits non-zero when any file has an error.
    /// Warnings (a missing NetBIOS scope, keys the cluster would drop) do not fail.
    ///
    /// Example:
    ///   kubectl gmsa lint webapp01.json other.json
    #[command(verbatim_doc_comment)]
    Lint(credspecs::LintArgs),
    /// Print the GMSACredentialSpec resource for a credential spec file.
    ///
    /// The same resource as the upstream GenerateCredentialSpecResource.ps1, on any OS.
    ///
    /// Example:
    ///   kubectl gmsa convert webapp01.json --credspec-name webapp01 \
    ///       | kubectl apply -f -
    #[command(verbatim_doc_comment)]
    Convert(credspecs::ConvertArgs),
    /// Add a credential spec to the cluster and let service accounts use it.
    ///
    /// Creates or updates the GMSACredentialSpec, a ClusterRole allowed to `use` exactly that
    /// resource, and a RoleBinding of it for each service account. Refuses to change
    /// existing objects that differ unless --overwrite. Mirrors Add-AksHciGMSACredentialSpec.
    ///
    /// Example:
    ///   kubectl gmsa add-credspec --credspec-file webapp01.json \
    ///       --credspec-name webapp01 --cluster-role-name webapp01-user \
    ///       --service-account app -n shop
    #[command(verbatim_doc_comment)]
    AddCredspec(credspecs::AddCredspecArgs),
    /// Remove a credential spec and the role and bindings add-credspec made for it.
    ///
    /// Without --cluster-role-name, finds the ClusterRoles by their kubectl-gmsa/credspec
    /// annotation. Removes only objects labelled as made by kubectl-gmsa, never one made for
    /// another credential spec, and lists what it removed. Mirrors
    /// Remove-AksHciGMSACredentialSpec.
    ///
    /// Example:
    ///   kubectl gmsa remove-credspec --credspec-name webapp01 \
    ///       --cluster-role-name webapp01-user
    #[command(verbatim_doc_comment)]
    RemoveCredspec(credspecs::RemoveCredspecArgs),
    /// Let more service accounts use a credential spec (RoleBindings to its cluster role).
    ///
    ///
    /// Example:
    ///   kubectl gmsa bind-role --cluster-role-name webapp01-user \
    ///       --service-account web:frontend
    #[command(verbatim_doc_comment)]
    BindRole(credspecs::BindRoleArgs),
    /// Stop service accounts from using a credential spec (deletes their RoleBindings).
    ///
    ///
    /// Example:
    ///   kubectl gmsa unbind-role --cluster-role-name webapp01-user \
    ///       --service-account app -n shop
    #[command(verbatim_doc_comment)]
    UnbindRole(credspecs::UnbindRoleArgs),
    /// List credential specs with the gMSA they name and the service accounts bound to them.
    ///
    /// Credential specs are cluster-scoped: without -n every spec is listed, with the service
    /// accounts of every namespace (-A says so explicitly). With -n NAMESPACE only the service
    /// accounts of that namespace are shown, and only the specs one of them may use (a spec
    /// named on the command line is shown even when none may). -o yaml|json prints a v1 List:
    /// the GMSACredentialSpecs, then the ClusterRoles and RoleBindings that let the service
    /// accounts use them, as `kubectl apply -f` takes them back.
    ///
    /// Examples:
    ///   kubectl gmsa get -o wide
    ///   kubectl gmsa get -n shop
    ///   kubectl gmsa get webapp01 -o yaml > webapp01.yaml
    #[command(verbatim_doc_comment)]
    Get(credspecs::GetArgs),
    /// Ask the cluster, as the webhook does, whether service accounts may use a credential spec.
    ///
    /// Exits 5 when any of them may not (and prints the bind-role command that lets them),
    /// 3 when the credential spec does not exist.
    ///
    /// Example:
    ///   kubectl gmsa check-access webapp01 --service-account app -n shop
    #[command(verbatim_doc_comment)]
    CheckAccess(credspecs::CheckAccessArgs),
    /// Write the Secret holding the domain user a ccg plug-in uses (non-domain-joined hosts).
    ///
    /// The password is read from a hidden prompt, or from standard input with --password-stdin;
    /// never from the command line.
    ///
    /// Example:
    ///   kubectl gmsa create-secret gmsa-user --domain contoso.com \
    ///       --username ccg-reader -n default
    #[command(verbatim_doc_comment)]
    CreateSecret(credspecs::CreateSecretArgs),
    /// Write the credential spec of a gMSA, read from Active Directory over LDAP.
    ///
    /// What New-CredentialSpec does, from any OS: the domain's SID, GUID, DNS and NetBIOS
    /// names and forest root come from the domain controller. Fails when the account does
    /// not exist or is not a gMSA.
    ///
    /// Example:
    ///   kubectl gmsa new-credspec --account WebApp01 \
    ///       --server ldaps://dc1.contoso.com > webapp01.json
    #[command(verbatim_doc_comment)]
    NewCredspec(directory::NewCredspecArgs),
    /// Check a gMSA in Active Directory the way the troubleshooting guide does.
    ///
    /// Exists and unique, enabled, host/ SPN, dNSHostName, userAccountControl, who may
    /// retrieve the password, a usable KDS root key, and whether the bound identity can
    /// retrieve the password. Exits non-zero when a check fails.
    ///
    /// Example:
    ///   kubectl gmsa check-account WebApp01 --server ldaps://dc1.contoso.com
    #[command(verbatim_doc_comment)]
    CheckAccount(directory::CheckAccountArgs),
    /// Create a gMSA in Active Directory (what New-ADServiceAccount does).
    ///
    ///
    /// Example:
    ///   kubectl gmsa create-account WebApp01 --allowed-principal WebApp01Hosts \
    ///       --server ldaps://dc1.contoso.com
    #[command(verbatim_doc_comment)]
    CreateAccount(directory::CreateAccountArgs),
    /// Install (or upgrade) the gMSA admission webhook, its CRD, RBAC and TLS.
    ///
    /// Makes its own CA and serving certificate (no CSR API, no openssl) or, with
    /// --cert-manager, lets cert-manager issue them. The webhooks skip kube-system, the
    /// webhook's namespace and namespaces labelled kubectl-gmsa/webhook=disabled; on 1.28+
    /// they see only pods that use gMSA. Re-running is an upgrade: changed flags are applied,
    /// the certificate is kept unless it expires within 30 days. The namespace is -n
    /// (default gmsa-webhook). Mirrors Install-AksHciGMSAWebhook.
    ///
    /// --dry-run=client cannot ask the server its version: it renders for the newest
    /// Kubernetes unless --kube-version, and its Secrets' keys are REDACTED (use
    /// --cert-manager for a GitOps repository).
    ///
    /// Examples:
    ///   kubectl gmsa install-webhook
    ///   kubectl gmsa install-webhook --failure-policy Ignore --replicas 3
    ///   kubectl gmsa install-webhook --dry-run=client -o yaml > gmsa-webhook.yaml
    #[command(verbatim_doc_comment)]
    InstallWebhook(webhook::InstallWebhookArgs),
    /// Remove what install-webhook made (the CRD and credential specs stay unless --purge).
    ///
    /// Deletes, one by one, the objects labelled as made by install-webhook for --name, the
    /// webhook configurations first; the namespace only if install-webhook created it.
    /// Mirrors Uninstall-AksHciGMSAWebhook.
    ///
    /// Example:
    ///   kubectl gmsa uninstall-webhook -n gmsa-webhook
    #[command(verbatim_doc_comment)]
    UninstallWebhook(webhook::UninstallWebhookArgs),
    /// Give the webhook a new serving certificate (and with --new-ca a new CA), then restart it.
    ///
    ///
    /// Example:
    ///   kubectl gmsa rotate-certs --new-ca
    #[command(verbatim_doc_comment)]
    RotateCerts(webhook::RotateCertsArgs),
    /// Is the webhook healthy: CRD, Deployment, webhook configurations, certificate expiry.
    ///
    /// Exits 10 when anything is wrong.
    ///
    /// Example:
    ///   kubectl gmsa status -o json
    #[command(verbatim_doc_comment)]
    Status(webhook::StatusArgs),
    /// Check the whole gMSA chain and say what to fix: Active Directory, the cluster, the
    /// workload, and (with --exec) inside its Windows containers.
    ///
    /// Prints a checklist grouped by layer, each line PASS, WARN, FAIL or SKIP with what was
    /// found and, for a warning or a failure, the command or field that fixes it. The checks
    /// run concurrently. Exits 0 when nothing fails, 10 when something does. Never writes,
    /// and never reads a Secret's values (only its key names).
    ///
    /// Examples:
    ///   kubectl gmsa doctor                         # every spec and workload
    ///   kubectl gmsa doctor deployment/web -n shop  # one workload
    ///   kubectl gmsa doctor credspec/webapp01 \
    ///       --server ldaps://dc1.contoso.com --user reader@contoso.com
    ///   kubectl gmsa doctor pod/web-7f9c -n shop --exec  # nltest, klist inside
    #[command(verbatim_doc_comment)]
    Doctor(doctor::DoctorArgs),
    /// Make a workload run as a gMSA: set its pod template's gmsaCredentialSpecName.
    ///
    /// Sets securityContext.windowsOptions.gmsaCredentialSpecName (pod level, or --container),
    /// adds the node selector kubernetes.io/os: windows unless --no-windows-selector, checks
    /// that the service account may use the credential spec (--bind lets it), and warns about
    /// a fixed hostname on several replicas. One server-side apply of only those fields;
    /// running it again changes nothing. --dry-run=client -o yaml prints the apply
    /// configuration for a GitOps repository.
    ///
    /// Example:
    ///   kubectl gmsa attach deployment/web --credspec-name webapp01 -n shop --bind
    #[command(verbatim_doc_comment)]
    Attach(attach::AttachArgs),
    /// Walk through the whole job, one question at a time.
    ///
    /// Shows the cluster and your permissions; checks the webhook and offers to install it
    /// (each safety choice explained); takes the credential spec from a file, from Active
    /// Directory (what new-credspec does) or pasted, and lints it; suggests names, asks who
    /// may use it and whether the nodes are domain joined (each answer checked as it is
    /// given; y/n answers end with Enter); previews one line per object (the YAML on request),
    /// applies on confirmation, checks access, offers to attach the credential spec to a
    /// workload, and prints the pod spec lines and the equivalent commands. Every question
    /// has a flag; --yes (or no terminal) asks nothing and names the flags it is missing.
    /// Passwords come from a hidden prompt or $GMSA_LDAP_PASSWORD. It stops at once when
    /// your identity may write none of what it makes; Ctrl-C exits 130.
    ///
    /// Examples:
    ///   kubectl gmsa wizard
    ///   kubectl gmsa wizard --account WebApp01 \
    ///       --server ldaps://dc1.contoso.com --user admin@contoso.com
    ///   kubectl gmsa wizard --yes --credspec-file webapp01.json -n shop \
    ///       --service-account app --attach deployment/web
    #[command(verbatim_doc_comment)]
    Wizard(crate::wizard::WizardArgs),
    /// Print the version, commit and target of this build.
    ///
    /// Example:
    ///   kubectl gmsa version
    #[command(verbatim_doc_comment)]
    Version(misc::VersionArgs),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The example blocks of a `--help` text: the lines after `Example:`, `Examples:` or
    /// `Typical first run:` up to the next blank line.
    fn example_blocks(help: &str) -> Vec<Vec<String>> {
        let mut blocks = vec![];
        let mut block: Option<Vec<String>> = None;
        for line in help.lines().map(str::trim_end) {
            let head = line.trim_start();
            if ["Example:", "Examples:", "Typical first run:"].contains(&head) {
                block = Some(vec![]);
            } else if head.is_empty() {
                blocks.extend(block.take());
            } else if let Some(b) = &mut block {
                b.push(line.to_owned());
            } else {
                assert!(
                    !head.starts_with("Example"),
                    "put the example on the lines after the heading: {line}"
                );
            }
        }
        blocks.extend(block);
        blocks
    }

    /// Every command's examples can be pasted into a shell: a command that goes on over
    /// several lines ends each of them but the last with ` \`, and no line is wider
    /// than 80 columns (so no terminal wraps it).
    #[test]
    fn every_help_example_can_be_pasted() {
        let mut cmd = Cli::command().term_width(80);
        cmd.build();
        let mut helps = vec![(
            "kubectl gmsa".to_owned(),
            cmd.render_long_help().to_string(),
        )];
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .collect();
        for name in names {
            let sub = cmd.find_subcommand_mut(&name).expect("listed");
            let mut sub = sub.clone().term_width(80);
            helps.push((name, sub.render_long_help().to_string()));
        }
        assert!(helps.len() > 15, "{} commands", helps.len());
        for (name, help) in &helps {
            let blocks = example_blocks(help);
            assert!(!blocks.is_empty(), "{name} --help has no example:\n{help}");
            for block in blocks {
                assert!(
                    block[0].trim_start().starts_with("kubectl gmsa "),
                    "{name}: an example starts with `kubectl gmsa`: {block:#?}"
                );
                for (i, line) in block.iter().enumerate() {
                    assert!(
                        line.chars().count() <= 80,
                        "{name}: example line wider than 80 columns: {line}"
                    );
                    let continued = block
                        .get(i + 1)
                        .is_some_and(|next| !next.trim_start().starts_with("kubectl gmsa "));
                    if continued {
                        assert!(
                            line.ends_with(" \\"),
                            "{name}: the example goes on after this line, which must end with ` \\`: {line}"
                        );
                    } else {
                        assert!(
                            !line.ends_with('\\'),
                            "{name}: the example ends here but the line ends with `\\`: {line}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_example_checker_catches_a_wrapped_example() {
        let help = "About.\n\nExample:\n  kubectl gmsa add-credspec --credspec-file a.json\n      --credspec-name a\n";
        let blocks = example_blocks(help);
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].len(), 2);
        assert!(!blocks[0][0].ends_with(" \\"));
    }
}
