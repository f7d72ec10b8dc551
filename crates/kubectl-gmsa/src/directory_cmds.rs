//! The directory commands (`new-credspec`, `check-account`, `create-account`): their clap
//! arguments, the password prompt, and their printers. The work is in `gmsa::ops`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use gmsa::directory::{DirectoryTarget, PASSWORD_ENV};
use gmsa::ops::{self, CheckStatus};
use gmsa::{Error, ErrorKind};

use crate::cli::{CcgPluginArg, ReportFormat};
use crate::output;
use crate::output::io;

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
    /// comes from $GMSA_LDAP_PASSWORD or a hidden prompt, never from the command line.
    /// Without --user: Kerberos with your ticket cache (kinit).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Seconds to wait for the connection and for each LDAP operation.
    #[arg(long, value_name = "SECONDS", default_value_t = gmsa::directory::DEFAULT_TIMEOUT_SECS)]
    pub timeout: u64,
}

impl DirectoryArgs {
    /// The core's target, with the password read from the environment or a prompt.
    pub fn target(&self) -> Result<DirectoryTarget, Error> {
        let password = match &self.user {
            None => None,
            Some(user) => Some(read_password(user)?),
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

/// `$GMSA_LDAP_PASSWORD`, else a hidden prompt on the terminal.
fn read_password(user: &str) -> Result<String, Error> {
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        if !p.is_empty() {
            return Ok(p);
        }
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Error::new(ErrorKind::Config, format!("no password for {user}: ${PASSWORD_ENV} is not set and there is no terminal to ask"))
            .with_hint(format!("set ${PASSWORD_ENV}, or use Kerberos (kinit, then leave out --user)")));
    }
    dialoguer::Password::new()
        .with_prompt(format!("Password of {user}"))
        .interact()
        .map_err(|e| Error::invalid(format!("failed to read the password: {e}")))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CredspecFormat {
    /// The credential spec JSON, as New-CredentialSpec writes it.
    Json,
    /// The credential spec as YAML.
    Yaml,
    /// The GMSACredentialSpec resource (YAML), for kubectl apply.
    Resource,
}

#[derive(Debug, Args)]
pub struct NewCredspecArgs {
    /// The gMSA (sAMAccountName; a trailing $ is ignored).
    #[arg(long, value_name = "NAME")]
    pub account: String,
    /// Another gMSA the container may use: NAME or NAME@DOMAIN. Repeatable.
    #[arg(long = "additional-account", value_name = "NAME[@DOMAIN]")]
    pub additional_accounts: Vec<String>,
    /// Write the credential spec JSON to this file (New-CredentialSpec's default name is
    /// <netbios>_<account>.json).
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// What to print (default: json, or nothing with --file).
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<CredspecFormat>,
    /// Name of the resource for -o resource (default: the gMSA name in lower case).
    #[arg(long, value_name = "NAME")]
    pub credspec_name: Option<String>,
    /// Non-domain-joined hosts: the ccg.exe plug-in (HostAccountConfig).
    #[arg(
        long,
        value_enum,
        conflicts_with = "plugin_guid",
        requires = "plugin_input"
    )]
    pub ccg_plugin: Option<CcgPluginArg>,
    /// Non-domain-joined hosts: the CLSID of any other ccg.exe plug-in.
    #[arg(long, value_name = "GUID", requires = "plugin_input")]
    pub plugin_guid: Option<String>,
    /// Non-domain-joined hosts: the plug-in's input (PluginInput).
    #[arg(long, value_name = "TEXT")]
    pub plugin_input: Option<String>,
    /// Print what the directory queries cost (connections, round trips, time) on stderr.
    #[arg(long)]
    pub stats: bool,
    #[command(flatten)]
    pub directory: DirectoryArgs,
}

#[derive(Debug, Args)]
pub struct CheckAccountArgs {
    /// The gMSA (sAMAccountName; a trailing $ is ignored).
    #[arg(value_name = "ACCOUNT")]
    pub account: String,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: ReportFormat,
    #[command(flatten)]
    pub directory: DirectoryArgs,
}

#[derive(Debug, Args)]
pub struct CreateAccountArgs {
    /// The gMSA's name (at most 15 characters; no $).
    #[arg(value_name = "ACCOUNT")]
    pub account: String,
    /// Its dNSHostName (default: <account>.<domain> in lower case).
    #[arg(long, value_name = "FQDN")]
    pub dns_host_name: Option<String>,
    /// A service principal name. Repeatable; default host/<account> and host/<dns-host-name>.
    #[arg(long = "spn", value_name = "SPN")]
    pub spns: Vec<String>,
    /// A user, group or computer allowed to retrieve the password (usually the group of
    /// container hosts). Repeatable. Each gets an access-allowed entry with the rights
    /// New-ADServiceAccount grants (0xF01FF) in msDS-GroupMSAMembership.
    #[arg(long = "allowed-principal", value_name = "NAME")]
    pub allowed_principals: Vec<String>,
    /// Also create this global security group (in CN=Users) and allow it.
    #[arg(long, value_name = "NAME")]
    pub create_group: Option<String>,
    /// A member of --create-group (a container host's computer account, NAME or NAME$). Repeatable.
    #[arg(long = "member", value_name = "NAME", requires = "create_group")]
    pub members: Vec<String>,
    /// Container for the gMSA (default: CN=Managed Service Accounts,<domain>).
    #[arg(long, value_name = "DN")]
    pub container: Option<String>,
    /// Write nothing; print the LDAP changes (LDIF) that would be made.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: ReportFormat,
    #[command(flatten)]
    pub directory: DirectoryArgs,
}

pub async fn new_credspec(a: NewCredspecArgs, out: &mut dyn Write) -> Result<ExitCode, Error> {
    let format = a.output.or(if a.file.is_some() {
        None
    } else {
        Some(CredspecFormat::Json)
    });
    let credspec_name = match (format, &a.credspec_name) {
        (Some(CredspecFormat::Resource), Some(n)) => Some(n.clone()),
        (Some(CredspecFormat::Resource), None) => {
            Some(gmsa::names::resource_name_from_account(&a.account))
        }
        _ => None,
    };
    let req = ops::NewCredspecRequest {
        directory: a.directory.target()?,
        account: a.account.clone(),
        additional_accounts: a.additional_accounts.clone(),
        plugin: ops::PluginRequest {
            ccg_plugin: a.ccg_plugin.map(Into::into),
            plugin_guid: a.plugin_guid.clone(),
            plugin_input: a.plugin_input.clone(),
        },
        credspec_name,
    };
    let spinner = crate::progress::Spinner::new();
    let o = ops::new_credspec(&req, &spinner).await;
    spinner.finish();
    let o = o?;
    output::findings(
        &mut std::io::stderr(),
        "credential spec",
        &o.findings,
        std::io::stderr().is_terminal(),
    )
    .map_err(io)?;
    if let Some(path) = &a.file {
        let mut text = o.credspec.to_json_pretty();
        text.push('\n');
        std::fs::write(path, text)
            .map_err(|e| Error::invalid(format!("failed to write {}: {e}", path.display())))?;
        eprintln!(
            "wrote {} (New-CredentialSpec would name it {})",
            path.display(),
            o.default_file_name
        );
    }
    match format {
        Some(CredspecFormat::Json) => {
            writeln!(out, "{}", o.credspec.to_json_pretty()).map_err(io)?
        }
        Some(CredspecFormat::Yaml) => {
            let v = serde_json::to_value(&o.credspec).expect("serializes");
            output::value(out, &v, crate::cli::ObjectFormat::Yaml).map_err(io)?
        }
        Some(CredspecFormat::Resource) => {
            let r = o.resource.as_ref().expect("asked for a resource");
            output::value(out, r, crate::cli::ObjectFormat::Yaml).map_err(io)?
        }
        None => {}
    }
    if a.stats {
        let s = &o.stats;
        eprintln!(
            "directory: {} connection(s), {} round trips ({} searches); connect {:.1} ms, bind {:.1} ms, queries {:.1} ms",
            s.connections, s.round_trips, s.searches, s.connect_ms, s.bind_ms, s.queries_ms
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn check_account(a: CheckAccountArgs, out: &mut dyn Write) -> Result<ExitCode, Error> {
    let req = ops::CheckAccountRequest {
        directory: a.directory.target()?,
        account: a.account.clone(),
    };
    let spinner = crate::progress::Spinner::new();
    let o = ops::check_account(&req, &spinner).await;
    spinner.finish();
    let o = o?;
    if a.output == ReportFormat::Json {
        output::json(out, &o)?;
    } else {
        let c = output::colour(std::io::stdout().is_terminal());
        let bound = if o.bound_as.is_empty() {
            String::new()
        } else {
            format!(" as {}", o.bound_as)
        };
        writeln!(out, "gMSA {} on {}{bound}", o.account, o.server).map_err(io)?;
        for check in &o.checks {
            let (code, label) = match check.status {
                CheckStatus::Pass => ("32", "PASS"),
                CheckStatus::Warn => ("33", "WARN"),
                CheckStatus::Fail => ("31", "FAIL"),
            };
            let label = if c {
                format!("\x1b[{code}m{label}\x1b[0m")
            } else {
                label.to_owned()
            };
            writeln!(out, "{label}  {:<18} {}", check.check, check.message).map_err(io)?;
            if let Some(fix) = &check.fix {
                writeln!(out, "      {:<18} fix: {fix}", "").map_err(io)?;
            }
        }
    }
    Ok(if o.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(ErrorKind::Unhealthy.exit_code() as u8)
    })
}

pub async fn create_account(a: CreateAccountArgs, out: &mut dyn Write) -> Result<ExitCode, Error> {
    let req = ops::CreateAccountRequest {
        directory: a.directory.target()?,
        account: a.account.clone(),
        dns_host_name: a.dns_host_name.clone(),
        service_principal_names: a.spns.clone(),
        allowed_principals: a.allowed_principals.clone(),
        create_group: a.create_group.clone(),
        members: a.members.clone(),
        container: a.container.clone(),
        dry_run: a.dry_run,
    };
    let spinner = crate::progress::Spinner::new();
    let o = ops::create_account(&req, &spinner).await;
    spinner.finish();
    let o = o?;
    if a.output == ReportFormat::Json {
        output::json(out, &o)?;
    } else if o.dry_run {
        write!(out, "# dry run: nothing was written\n{}", o.ldif).map_err(io)?;
    } else {
        for c in &o.changes {
            writeln!(out, "{} created", c.dn).map_err(io)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
