//! The flag groups that commands share, each flattened (`#[command(flatten)]`) into the
//! commands that use it, so that a command's `--help` lists only its own flags: cluster
//! connection, writes (dry run and output), directory connection, ccg.exe plug-in, host
//! account, and the output formats.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use gmsa::directory::{DirectoryTarget, PASSWORD_ENV};
use gmsa::Error;

/// kubectl's connection flags. Accepted before the command too (`kubectl gmsa --context x
/// get`); given after it, they win.
#[derive(Debug, Args, Clone, Default)]
pub struct ClusterArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: the current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// The namespace: of the service accounts and role bindings for the credential-spec commands
    /// (default: the context's, else "default"); for get, a filter: only what service accounts
    /// of that namespace may use (default: every namespace); of the webhook for install-webhook,
    /// status, rotate-certs and uninstall-webhook (default: gmsa-webhook; status finds it
    /// without -n).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// How long to wait for any one request to the API server, as kubectl takes it: seconds
    /// (30), or a duration such as 5s, 1m, 2m30s or 1h; 0 waits forever [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse_duration)]
    pub request_timeout: Option<u64>,
}

impl ClusterArgs {
    /// These flags, with those given before the command filling what these leave out.
    pub fn or(&self, before: &ClusterArgs) -> ClusterArgs {
        ClusterArgs {
            kubeconfig: self
                .kubeconfig
                .clone()
                .or_else(|| before.kubeconfig.clone()),
            context: self.context.clone().or_else(|| before.context.clone()),
            namespace: self.namespace.clone().or_else(|| before.namespace.clone()),
            request_timeout: self.request_timeout.or(before.request_timeout),
        }
    }

    /// The cluster these flags name, as the core takes it.
    pub fn target(&self) -> gmsa::cluster::Target {
        gmsa::cluster::Target {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            request_timeout_secs: Some(
                self.request_timeout
                    .unwrap_or(gmsa::cluster::client::DEFAULT_REQUEST_TIMEOUT_SECS),
            ),
        }
    }
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

/// The flags of every command that writes objects.
#[derive(Debug, Args, Clone, Default)]
pub struct WriteArgs {
    /// Write nothing: "client" renders the objects, "server" has the server validate them.
    #[arg(long, value_enum, value_name = "MODE", num_args = 0..=1, default_missing_value = "client", default_value = "none")]
    pub dry_run: DryRunArg,
    /// Print the objects instead of a summary.
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<ObjectFormat>,
}

/// `-o` of commands that print objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ObjectFormat {
    Yaml,
    Json,
}

/// `-o` of `get`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Wide,
    Yaml,
    Json,
}

/// `-o` of commands that print a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

/// The known ccg.exe plug-ins.
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

/// The ccg.exe plug-in of a credential spec for hosts that are not domain joined
/// (HostAccountConfig). The rules (which plug-in needs which input) are the core's.
#[derive(Debug, Args, Clone, Default)]
pub struct PluginArgs {
    /// Non-domain-joined hosts: the ccg.exe plug-in (HostAccountConfig).
    #[arg(long, value_enum, conflicts_with = "plugin_guid")]
    pub ccg_plugin: Option<CcgPluginArg>,
    /// Non-domain-joined hosts: the CLSID of any other ccg.exe plug-in, such as {xxxxxxxx-...}.
    #[arg(long, value_name = "GUID")]
    pub plugin_guid: Option<String>,
    /// Non-domain-joined hosts: the plug-in's input (PluginInput).
    #[arg(long, value_name = "TEXT")]
    pub plugin_input: Option<String>,
}

impl PluginArgs {
    /// The core's plug-in request.
    pub fn request(&self) -> gmsa::ops::PluginRequest {
        gmsa::ops::PluginRequest {
            ccg_plugin: self.ccg_plugin.map(Into::into),
            plugin_guid: self.plugin_guid.clone(),
            plugin_input: self.plugin_input.clone(),
        }
    }

    fn is_set(&self) -> bool {
        self.ccg_plugin.is_some() || self.plugin_guid.is_some() || self.plugin_input.is_some()
    }
}

/// Hosts that are not domain joined: the Secret with the domain user, and the plug-in
/// that reads it.
#[derive(Debug, Args, Clone, Default)]
pub struct HostAccountArgs {
    /// Non-domain-joined hosts: the Secret with the domain user (see create-secret).
    #[arg(long, value_name = "NAME")]
    pub secret_name: Option<String>,
    /// Namespace of --secret-name.
    #[arg(
        long,
        value_name = "NAMESPACE",
        default_value = gmsa::cluster::objects::DEFAULT_SECRET_NAMESPACE,
        requires = "secret_name"
    )]
    pub secret_namespace: String,
    #[command(flatten)]
    pub plugin: PluginArgs,
}

impl HostAccountArgs {
    /// The core's host-account request; `None` for domain-joined hosts (no --secret-name).
    pub fn request(&self) -> Result<Option<gmsa::ops::HostAccountRequest>, Error> {
        let Some(secret_name) = self.secret_name.clone() else {
            if self.plugin.is_set() {
                return Err(Error::invalid(
                    "--ccg-plugin, --plugin-guid and --plugin-input need --secret-name",
                )
                .with_hint("name the Secret with the domain user (see create-secret)"));
            }
            return Ok(None);
        };
        Ok(Some(gmsa::ops::HostAccountRequest {
            secret_name,
            secret_namespace: Some(self.secret_namespace.clone()),
            ccg_plugin: self.plugin.ccg_plugin.map(Into::into),
            plugin_guid: self.plugin.plugin_guid.clone(),
            plugin_input: self.plugin.plugin_input.clone(),
        }))
    }
}

/// How to reach and authenticate to a domain controller (every directory command).
#[derive(Debug, Args, Clone, Default)]
pub struct DirectoryArgs {
    /// The domain controller: ldaps://HOST[:PORT], or ldap://HOST[:PORT] (StartTLS for --user;
    /// Kerberos seals the connection itself). Default: a DC of --domain from the DNS SRV
    /// records _ldap._tcp.dc._msdcs.<domain>, asked of --dns-server.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// DNS name of the domain, such as contoso.com (checked against what the server serves).
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// The DNS server that finds the DCs of --domain (when --server is not given) and their
    /// addresses: IP or IP:PORT. Default: $GMSA_DNS_SERVER, else the system's resolver.
    #[arg(long, value_name = "IP[:PORT]")]
    pub dns_server: Option<String>,
    /// PEM file with the CA certificate(s) to trust for the server (default: the system's).
    #[arg(long, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,
    /// Simple bind over TLS as this user (user@domain, DOMAIN\user or a DN). The password
    /// comes from --password-stdin, $GMSA_LDAP_PASSWORD or a hidden prompt, never from the
    /// command line.
    /// Without --user: Kerberos with your ticket cache (kinit).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// How long to wait for the connection and for each LDAP operation: seconds, or a
    /// duration such as 30s or 1m.
    #[arg(long, value_name = "DURATION", default_value_t = gmsa::directory::DEFAULT_TIMEOUT_SECS, value_parser = crate::duration::parse_duration)]
    pub timeout: u64,
}

/// `--password-stdin` of the directory commands (not a `DirectoryArgs` flag: the wizard,
/// which also takes those, asks in its own way).
#[derive(Debug, Args, Clone, Default)]
pub struct PasswordStdinArgs {
    /// Read the password of --user from standard input (its first line) instead of
    /// $GMSA_LDAP_PASSWORD or a hidden prompt.
    #[arg(long, requires = "user")]
    pub password_stdin: bool,
}

impl DirectoryArgs {
    /// The core's target, with the password of --user read from standard input
    /// (`--password-stdin`), the environment, or a hidden prompt, in that order.
    pub fn target(&self, password: &PasswordStdinArgs) -> Result<DirectoryTarget, Error> {
        // A bad --server is said before anyone is asked for a password.
        if let Some(server) = &self.server {
            gmsa::directory::ServerUrl::parse(server)?;
        }
        let password = match &self.user {
            None => None,
            Some(_) if password.password_stdin => Some(password_from_stdin()?),
            Some(user) => Some(directory_password(user)?),
        };
        Ok(DirectoryTarget {
            server: self.server.clone(),
            domain: self.domain.clone(),
            dns_server: self.dns_server.clone(),
            ca_file: self.ca_file.clone(),
            user: self.user.clone(),
            password,
            timeout_secs: Some(self.timeout),
        })
    }
}

/// A password from the first line of standard input (`--password-stdin`), without its
/// line end. Never from the command line.
pub fn password_from_stdin() -> Result<String, Error> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| {
        Error::invalid(format!(
            "failed to read the password from standard input: {e}"
        ))
    })?;
    let p = line.trim_end_matches(['\r', '\n']).to_owned();
    if p.is_empty() {
        return Err(Error::invalid("no password on standard input")
            .with_hint("pipe the password in: printf '%s\\n' \"$PASSWORD\" | kubectl gmsa ... --password-stdin"));
    }
    Ok(p)
}

/// `$GMSA_LDAP_PASSWORD`, else a hidden prompt on the terminal.
fn directory_password(user: &str) -> Result<String, Error> {
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        if !p.is_empty() {
            return Ok(p);
        }
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Error::invalid(format!("no password for {user}: ${PASSWORD_ENV} is not set and there is no terminal to ask"))
            .with_hint(format!("pipe it in with --password-stdin, set ${PASSWORD_ENV}, or use Kerberos (kinit, then leave out --user)")));
    }
    dialoguer::Password::new()
        .with_prompt(format!("Password of {user}"))
        .interact()
        .map_err(|e| Error::invalid(format!("failed to read the password: {e}")))
}

/// What the webhook does with a pod when it cannot be reached (install-webhook, wizard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailurePolicyArg {
    /// Reject pods while the webhook cannot be reached (upstream's behaviour).
    Fail,
    /// Admit pods unchecked while the webhook cannot be reached.
    Ignore,
}

impl From<FailurePolicyArg> for gmsa::cluster::webhook::FailurePolicy {
    fn from(p: FailurePolicyArg) -> Self {
        match p {
            FailurePolicyArg::Fail => gmsa::cluster::webhook::FailurePolicy::Fail,
            FailurePolicyArg::Ignore => gmsa::cluster::webhook::FailurePolicy::Ignore,
        }
    }
}
