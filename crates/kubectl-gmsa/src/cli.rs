//! The command line: clap definitions whose doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Run Windows containers as a gMSA on any Kubernetes cluster.
///
/// Takes a Windows container from "we have a gMSA in Active Directory" to "this pod runs as
/// that gMSA": credential specs (lint, convert, add, remove), who may use them (bind-role),
/// and what is in the cluster (get, check-access).
///
/// Typical first run:
///   kubectl gmsa lint webapp01.json
///   kubectl gmsa add-credspec --credspec-file webapp01.json --credspec-name webapp01 \
///       --cluster-role-name webapp01-user --service-account app -n shop
///   kubectl gmsa get
#[derive(Debug, Parser)]
#[command(name = "kubectl-gmsa", bin_name = "kubectl gmsa", version = crate::version::SHORT, long_version = crate::version::LONG)]
#[command(
    disable_help_subcommand = true,
    max_term_width = 100,
    verbatim_doc_comment
)]
pub struct Cli {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// kubectl's connection flags, accepted before or after the command.
#[derive(Debug, Args, Clone, Default)]
pub struct ClusterArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: the current context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace of the service accounts and role bindings (default: the context's, else "default").
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Seconds to wait for any one request to the API server.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 30)]
    pub request_timeout: u64,
}

impl ClusterArgs {
    /// The cluster these flags name, as the core takes it.
    pub fn target(&self) -> gmsa::cluster::Target {
        gmsa::cluster::Target {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            request_timeout_secs: Some(self.request_timeout),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check credential spec files against the rules Windows and the webhook apply.
    ///
    /// Prints every finding with its JSON path; exits non-zero when any file has an error.
    /// Warnings (a missing NetBIOS scope, keys the cluster would drop) do not fail.
    ///
    /// Example: kubectl gmsa lint webapp01.json other.json
    Lint(LintArgs),
    /// Print the GMSACredentialSpec resource for a credential spec file.
    ///
    /// The same resource as the upstream GenerateCredentialSpecResource.ps1, on any OS.
    ///
    /// Example: kubectl gmsa convert webapp01.json --credspec-name webapp01 | kubectl apply -f -
    Convert(ConvertArgs),
    /// Add a credential spec to the cluster and let service accounts use it.
    ///
    /// Creates or updates the GMSACredentialSpec, a ClusterRole allowed to `use` exactly that
    /// resource, and a RoleBinding of it for each service account. Refuses to change
    /// existing objects that differ unless --overwrite. Mirrors Add-AksHciGMSACredentialSpec.
    ///
    /// Example: kubectl gmsa add-credspec --credspec-file webapp01.json --credspec-name webapp01
    ///     --cluster-role-name webapp01-user --service-account app -n shop
    #[command(verbatim_doc_comment)]
    AddCredspec(AddCredspecArgs),
    /// Remove a credential spec and the role and bindings add-credspec made for it.
    ///
    /// Removes only objects labelled as made by kubectl-gmsa. Mirrors
    /// Remove-AksHciGMSACredentialSpec.
    ///
    /// Example: kubectl gmsa remove-credspec --credspec-name webapp01 --cluster-role-name webapp01-user
    RemoveCredspec(RemoveCredspecArgs),
    /// Let more service accounts use a credential spec (RoleBindings to its cluster role).
    ///
    /// Example: kubectl gmsa bind-role --cluster-role-name webapp01-user --service-account web:frontend
    BindRole(BindRoleArgs),
    /// Stop service accounts from using a credential spec (deletes their RoleBindings).
    ///
    /// Example: kubectl gmsa unbind-role --cluster-role-name webapp01-user --service-account app -n shop
    UnbindRole(UnbindRoleArgs),
    /// List credential specs with the gMSA they name and the service accounts bound to them.
    ///
    /// Example: kubectl gmsa get -o wide
    Get(GetArgs),
    /// Ask the cluster, as the webhook does, whether service accounts may use a credential spec.
    ///
    /// Exits non-zero when any of them may not.
    ///
    /// Example: kubectl gmsa check-access webapp01 --service-account app -n shop
    CheckAccess(CheckAccessArgs),
    /// Write the Secret holding the domain user a ccg plug-in uses (non-domain-joined hosts).
    ///
    /// The password is read from a hidden prompt, or from standard input with --password-stdin;
    /// never from the command line.
    ///
    /// Example: kubectl gmsa create-secret gmsa-user --domain contoso.com --username ccg-reader -n default
    CreateSecret(CreateSecretArgs),
    /// Write the credential spec of a gMSA, read from Active Directory over LDAP.
    ///
    /// What New-CredentialSpec does, from any OS: the domain's SID, GUID, DNS and NetBIOS
    /// names and forest root come from the domain controller. Fails when the account does
    /// not exist or is not a gMSA.
    ///
    /// Example: kubectl gmsa new-credspec --account WebApp01 --server ldaps://dc1.contoso.com > webapp01.json
    NewCredspec(crate::directory_cmds::NewCredspecArgs),
    /// Check a gMSA in Active Directory the way the troubleshooting guide does.
    ///
    /// Exists and unique, enabled, host/ SPN, dNSHostName, userAccountControl, who may
    /// retrieve the password, a usable KDS root key, and whether the bound identity can
    /// retrieve the password. Exits non-zero when a check fails.
    ///
    /// Example: kubectl gmsa check-account WebApp01 --server ldaps://dc1.contoso.com
    CheckAccount(crate::directory_cmds::CheckAccountArgs),
    /// Create a gMSA in Active Directory (what New-ADServiceAccount does).
    ///
    /// Example: kubectl gmsa create-account WebApp01 --allowed-principal WebApp01Hosts --server ldaps://dc1.contoso.com
    CreateAccount(crate::directory_cmds::CreateAccountArgs),
    /// Install (or upgrade) the gMSA admission webhook, its CRD, RBAC and TLS.
    ///
    /// Makes its own CA and serving certificate (no CSR API, no openssl) or, with
    /// --cert-manager, lets cert-manager issue them. The webhooks skip kube-system, the
    /// webhook's namespace and namespaces labelled kubectl-gmsa/webhook=disabled; on 1.28+
    /// they see only pods that use gMSA. Re-running is an upgrade: changed flags are applied,
    /// the certificate is kept unless it expires within 30 days. The namespace is -n
    /// (default gmsa-webhook). Mirrors Install-AksHciGMSAWebhook.
    ///
    /// Examples:
    ///   kubectl gmsa install-webhook
    ///   kubectl gmsa install-webhook --failure-policy Ignore --replicas 3
    ///   kubectl gmsa install-webhook --dry-run=client -o yaml > gmsa-webhook.yaml
    #[command(verbatim_doc_comment)]
    InstallWebhook(crate::webhook_cmds::InstallWebhookArgs),
    /// Remove what install-webhook made (the CRD and credential specs stay unless --purge).
    ///
    /// Deletes, one by one, the objects labelled as made by install-webhook for --name, the
    /// webhook configurations first; the namespace only if install-webhook created it.
    /// Mirrors Uninstall-AksHciGMSAWebhook.
    ///
    /// Example: kubectl gmsa uninstall-webhook
    UninstallWebhook(crate::webhook_cmds::UninstallWebhookArgs),
    /// Give the webhook a new serving certificate (and with --new-ca a new CA), then restart it.
    ///
    /// Example: kubectl gmsa rotate-certs --new-ca
    RotateCerts(crate::webhook_cmds::RotateCertsArgs),
    /// Is the webhook healthy: CRD, Deployment, webhook configurations, certificate expiry.
    ///
    /// Exits 10 when anything is wrong.
    ///
    /// Example: kubectl gmsa status -o json
    Status(crate::webhook_cmds::StatusArgs),
    /// Check the whole gMSA chain and say what to fix: Active Directory, the cluster, the
    /// workload, and (with --exec) inside its Windows containers.
    ///
    /// Prints a checklist grouped by layer, each line PASS, WARN, FAIL or SKIP with what was
    /// found and, for a warning or a failure, the command or field that fixes it. The checks
    /// run concurrently. Exits 0 when nothing fails, 10 when something does. Never writes,
    /// and never reads a Secret's values (only its key names).
    ///
    /// Examples:
    ///   kubectl gmsa doctor                                   # webhook, every spec and workload
    ///   kubectl gmsa doctor deployment/web -n shop            # one workload
    ///   kubectl gmsa doctor credspec/webapp01 --server ldaps://dc1.contoso.com --user reader@contoso.com
    ///   kubectl gmsa doctor pod/web-7f9c -n shop --exec       # also nltest/klist in the container
    #[command(verbatim_doc_comment)]
    Doctor(crate::commands::doctor::DoctorArgs),
    /// Make a workload run as a gMSA: set its pod template's gmsaCredentialSpecName.
    ///
    /// Sets securityContext.windowsOptions.gmsaCredentialSpecName (pod level, or --container),
    /// adds the node selector kubernetes.io/os: windows unless --no-windows-selector, checks
    /// that the service account may use the credential spec (--bind lets it), and warns about
    /// a fixed hostname on several replicas. One server-side apply of only those fields;
    /// running it again changes nothing. --dry-run=client -o yaml prints the apply
    /// configuration for a GitOps repository.
    ///
    /// Example: kubectl gmsa attach deployment/web --credspec-name webapp01 -n shop --bind
    Attach(crate::commands::attach::AttachArgs),
    /// Walk through the whole job, one question at a time.
    ///
    /// Shows the cluster and your permissions; checks the webhook and offers to install it
    /// (each safety choice explained); takes the credential spec from a file, from Active
    /// Directory (what new-credspec does) or pasted, and lints it; suggests names, asks who
    /// may use it and whether the nodes are domain joined; previews every object, applies on
    /// confirmation, checks access, and prints the pod spec lines and the equivalent
    /// commands. Every question has a flag; --yes (or no terminal) asks nothing and names the
    /// flags it is missing. Passwords come from a hidden prompt or $GMSA_LDAP_PASSWORD.
    ///
    /// Examples:
    ///   kubectl gmsa wizard
    ///   kubectl gmsa wizard --account WebApp01 --server ldaps://dc1.contoso.com --user admin@contoso.com
    #[command(verbatim_doc_comment)]
    Wizard(crate::wizard::WizardArgs),
    /// Print the version, commit and target of this build.
    Version(VersionArgs),
}

/// `--dry-run`: kubectl's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DryRunArg {
    /// Write for real.
    #[default]
    None,
    /// Only render the objects; contact no server.
    Client,
    /// Send the writes to the server as a dry run: validated, not persisted.
    Server,
}

impl From<DryRunArg> for gmsa::cluster::DryRun {
    fn from(d: DryRunArg) -> Self {
        match d {
            DryRunArg::None => gmsa::cluster::DryRun::None,
            DryRunArg::Client => gmsa::cluster::DryRun::Client,
            DryRunArg::Server => gmsa::cluster::DryRun::Server,
        }
    }
}

#[derive(Debug, Args, Clone, Default)]
pub struct WriteArgs {
    /// Write nothing: "client" renders the objects, "server" has the server validate them.
    #[arg(long, value_enum, value_name = "MODE", num_args = 0..=1, default_missing_value = "client", default_value = "none")]
    pub dry_run: DryRunArg,
    /// Print the objects instead of a summary.
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<ObjectFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ObjectFormat {
    Yaml,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Wide,
    Yaml,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CcgPluginArg {
    /// Azure Key Vault (AKS): --plugin-input "ObjectId=<id>;SecretUri=<uri>".
    AzureKeyVault,
    /// AWS Secrets Manager: --plugin-input '{"credentialArn": "arn:..."}'.
    Aws,
    /// Rancher's Kubernetes-secret plug-in: reads --secret-name in --secret-namespace.
    Rancher,
}

impl From<CcgPluginArg> for gmsa::credspec::CcgPlugin {
    fn from(p: CcgPluginArg) -> Self {
        match p {
            CcgPluginArg::AzureKeyVault => gmsa::credspec::CcgPlugin::AzureKeyVault,
            CcgPluginArg::Aws => gmsa::credspec::CcgPlugin::Aws,
            CcgPluginArg::Rancher => gmsa::credspec::CcgPlugin::Rancher,
        }
    }
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Credential spec JSON files (UTF-8 or UTF-16, any line ends).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: ReportFormat,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The credential spec JSON file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Name of the resource (default: the gMSA name in lower case, '_' as '-').
    #[arg(long, value_name = "NAME")]
    pub credspec_name: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "yaml")]
    pub output: ObjectFormat,
}

#[derive(Debug, Args)]
pub struct AddCredspecArgs {
    /// The credential spec JSON file (from New-CredentialSpec or `kubectl gmsa new-credspec`).
    #[arg(long, value_name = "PATH")]
    pub credspec_file: PathBuf,
    /// Name of the GMSACredentialSpec resource (default: the gMSA name in lower case).
    #[arg(long, value_name = "NAME")]
    pub credspec_name: Option<String>,
    /// Name of the ClusterRole allowed to use it (default: <credspec-name>-gmsa-user).
    #[arg(long, value_name = "NAME")]
    pub cluster_role_name: Option<String>,
    /// Service account that may use it: NAME (in -n) or NAMESPACE:NAME. Repeatable; default "default".
    #[arg(long = "service-account", value_name = "NAME")]
    pub service_accounts: Vec<String>,
    /// Non-domain-joined hosts: the Secret with the domain user (see create-secret).
    #[arg(long, value_name = "NAME")]
    pub secret_name: Option<String>,
    /// Namespace of --secret-name.
    #[arg(
        long,
        value_name = "NAMESPACE",
        default_value = "default",
        requires = "secret_name"
    )]
    pub secret_namespace: String,
    /// Non-domain-joined hosts: the ccg.exe plug-in (default with --secret-name: rancher).
    #[arg(
        long,
        value_enum,
        requires = "secret_name",
        conflicts_with = "plugin_guid"
    )]
    pub ccg_plugin: Option<CcgPluginArg>,
    /// Non-domain-joined hosts: the CLSID of any other ccg.exe plug-in, such as {xxxxxxxx-...}.
    #[arg(long, value_name = "GUID", requires = "secret_name")]
    pub plugin_guid: Option<String>,
    /// Non-domain-joined hosts: the plug-in's input (PluginInput).
    #[arg(long, value_name = "TEXT", requires = "secret_name")]
    pub plugin_input: Option<String>,
    /// Replace existing objects that differ, and take fields other tools manage.
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
pub struct RemoveCredspecArgs {
    /// Name of the GMSACredentialSpec resource.
    #[arg(long, value_name = "NAME")]
    pub credspec_name: String,
    /// Name of its ClusterRole (default: <credspec-name>-gmsa-user).
    #[arg(long, value_name = "NAME")]
    pub cluster_role_name: Option<String>,
    /// Service accounts whose bindings to remove (NAME or NAMESPACE:NAME; default "default").
    /// Our bindings of the role in other namespaces are removed too.
    #[arg(long = "service-account", value_name = "NAME")]
    pub service_accounts: Vec<String>,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
pub struct BindRoleArgs {
    /// The ClusterRole that may use the credential spec (as made by add-credspec).
    #[arg(long, value_name = "NAME")]
    pub cluster_role_name: String,
    /// Service account: NAME (in -n) or NAMESPACE:NAME. Repeatable; default "default".
    #[arg(long = "service-account", value_name = "NAME")]
    pub service_accounts: Vec<String>,
    /// Replace existing bindings of the same name that differ.
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
pub struct UnbindRoleArgs {
    /// The ClusterRole the bindings refer to.
    #[arg(long, value_name = "NAME")]
    pub cluster_role_name: String,
    /// Service account: NAME (in -n) or NAMESPACE:NAME. Repeatable; default "default".
    #[arg(long = "service-account", value_name = "NAME")]
    pub service_accounts: Vec<String>,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// One credential spec (default: all).
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// Output format (default: a table).
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<ListFormat>,
    /// Return large lists in chunks of this many objects (0: all at once), as kubectl does.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub chunk_size: u32,
}

#[derive(Debug, Args)]
pub struct CheckAccessArgs {
    /// The GMSACredentialSpec resource name.
    #[arg(value_name = "CREDSPEC_NAME")]
    pub credspec_name: String,
    /// Service account: NAME (in -n) or NAMESPACE:NAME. Repeatable; default "default".
    #[arg(long = "service-account", value_name = "NAME")]
    pub service_accounts: Vec<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: ReportFormat,
}

#[derive(Debug, Args)]
pub struct CreateSecretArgs {
    /// Name of the Secret.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// DNS name of the domain, such as contoso.com.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: String,
    /// The domain user allowed to retrieve the gMSA password (without domain part).
    #[arg(long, value_name = "USER")]
    pub username: String,
    /// Read the password from standard input (first line) instead of a hidden prompt.
    #[arg(long)]
    pub password_stdin: bool,
    /// Replace an existing Secret that differs.
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: ReportFormat,
}
