//! What the wizard is asked for: its flags (every question has one), the plan it builds
//! (the requests it will run) and the flags a run without questions lacks.

use std::path::PathBuf;

use clap::Args;
use gmsa::directory::PASSWORD_ENV;
use gmsa::ops::{
    self, AddCredspecRequest, AttachRequest, InstallWebhookRequest, NewCredspecRequest,
};

use crate::args::{CcgPluginArg, ClusterArgs, DirectoryArgs, FailurePolicyArg};

#[derive(Debug, Args, Clone, Default)]
pub struct WizardArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The credential spec JSON file (skips that question).
    #[arg(long, value_name = "PATH", conflicts_with = "account")]
    pub credspec_file: Option<PathBuf>,
    /// Name of the GMSACredentialSpec resource (default: from the gMSA name).
    #[arg(long, value_name = "NAME")]
    pub credspec_name: Option<String>,
    /// Name of the ClusterRole (default: <credspec-name>-gmsa-user).
    #[arg(long, value_name = "NAME")]
    pub cluster_role_name: Option<String>,
    /// Service accounts that may use it: NAME (in -n) or NAMESPACE:NAME. Repeatable.
    #[arg(long = "service-account", value_name = "NAME")]
    pub service_accounts: Vec<String>,
    /// The Windows nodes are not domain joined: the Secret with the domain user.
    #[arg(long, value_name = "NAME")]
    pub secret_name: Option<String>,
    /// Namespace of --secret-name (default: default).
    #[arg(long, value_name = "NAMESPACE")]
    pub secret_namespace: Option<String>,
    /// The ccg.exe plug-in of non-domain-joined nodes (default: rancher).
    #[arg(long, value_enum)]
    pub ccg_plugin: Option<CcgPluginArg>,
    /// The plug-in's input, for plug-ins that need one (Azure Key Vault, AWS).
    #[arg(long, value_name = "TEXT")]
    pub plugin_input: Option<String>,
    /// Replace existing objects that differ.
    #[arg(long)]
    pub overwrite: bool,
    /// Show the YAML of every object in the preview (without it the preview is one line per
    /// object, and the wizard asks whether to show the YAML).
    #[arg(long)]
    pub show_yaml: bool,
    /// Then attach the credential spec to this workload in -n's namespace (as
    /// `kubectl gmsa attach KIND/NAME --bind`): deployment/NAME, statefulset/NAME,
    /// daemonset/NAME, job/NAME or cronjob/NAME.
    #[arg(long, value_name = "KIND/NAME")]
    pub attach: Option<String>,
    /// Ask nothing: take every default, and fail if a required answer has no flag.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Generate the credential spec from Active Directory: the gMSA (as new-credspec
    /// --account). With --server (or --domain), --ca-file and --user below.
    #[arg(
        long,
        value_name = "NAME",
        help_heading = "Credential spec from Active Directory"
    )]
    pub account: Option<String>,
    /// Another gMSA the container may use: NAME or NAME@DOMAIN. Repeatable.
    #[arg(
        long = "additional-account",
        value_name = "NAME[@DOMAIN]",
        requires = "account",
        help_heading = "Credential spec from Active Directory"
    )]
    pub additional_accounts: Vec<String>,
    #[command(flatten, next_help_heading = "Credential spec from Active Directory")]
    pub directory: DirectoryArgs,
    /// Install (or repair) the webhook when it is missing or unhealthy, without asking.
    #[arg(long, overrides_with = "no_install_webhook", help_heading = "Webhook")]
    pub install_webhook: bool,
    /// Never install the webhook (the wizard stops if the cluster lacks the CRD).
    #[arg(long, overrides_with = "install_webhook", help_heading = "Webhook")]
    pub no_install_webhook: bool,
    /// Name of the webhook (install-webhook's --name).
    #[arg(long, value_name = "NAME", help_heading = "Webhook")]
    pub webhook_name: Option<String>,
    /// Namespace of the webhook (install-webhook's -n; default gmsa-webhook).
    #[arg(long, value_name = "NAMESPACE", help_heading = "Webhook")]
    pub webhook_namespace: Option<String>,
    /// What the API server does with a pod when the webhook cannot be reached.
    #[arg(
        long,
        value_enum,
        value_name = "POLICY",
        ignore_case = true,
        help_heading = "Webhook"
    )]
    pub failure_policy: Option<FailurePolicyArg>,
    /// Let cert-manager issue the webhook's certificates (default: a CA made here).
    #[arg(long, help_heading = "Webhook")]
    pub cert_manager: bool,
    /// Do not wait for the webhook's pods to be ready after installing it.
    #[arg(long, help_heading = "Webhook")]
    pub no_wait: bool,
}

/// Where the credential spec came from, for the equivalent commands.
pub(crate) enum Origin {
    File(PathBuf),
    /// Generated from the directory; written by `new-credspec --file <file>`.
    Directory {
        request: Box<NewCredspecRequest>,
        file: String,
    },
    /// Pasted on the terminal; the equivalent commands need it saved as `file`.
    Pasted {
        file: String,
    },
}

/// Everything the wizard decided: the requests it runs, and how it was asked for.
pub(crate) struct Plan {
    pub(crate) webhook: Option<InstallWebhookRequest>,
    pub(crate) origin: Origin,
    pub(crate) add: AddCredspecRequest,
    pub(crate) secret: Option<ops::CreateSecretRequest>,
    /// The workload the credential spec was attached to, at the end.
    pub(crate) attach: Option<AttachRequest>,
}

pub(crate) fn password_from_env() -> Option<String> {
    std::env::var(PASSWORD_ENV).ok().filter(|p| !p.is_empty())
}

/// The flags a run without questions lacks, checked before anything is read.
pub(crate) fn missing_flags(a: &WizardArgs) -> Vec<String> {
    let mut missing = vec![];
    if a.credspec_file.is_none() && a.account.is_none() {
        missing.push(
            "--credspec-file PATH (or --account NAME to generate it from Active Directory)".into(),
        );
    }
    if a.account.is_some() {
        if a.directory.server.is_none() && a.directory.domain.is_none() {
            missing.push("--server URL (or --domain DOMAIN)".into());
        }
        if a.directory.user.is_some() && password_from_env().is_none() {
            missing.push(format!(
                "${PASSWORD_ENV} (the password of --user; never a flag)"
            ));
        }
    }
    if a.secret_name.is_some()
        && matches!(
            a.ccg_plugin,
            Some(CcgPluginArg::Aws | CcgPluginArg::AzureKeyVault)
        )
        && a.plugin_input.is_none()
    {
        missing.push("--plugin-input (this ccg plug-in needs one)".into());
    }
    missing
}
