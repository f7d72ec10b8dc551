//! The directory commands (`new-credspec`, `check-account`, `create-account`): their flags
//! (the directory connection's are in `args`), the requests they build, and their printers.
//! They talk to Active Directory only, so they take no cluster flags. The work is in
//! `gmsa::ops`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use gmsa::ops::{self, CheckStatus};
use gmsa::{Error, ErrorKind};

use crate::args::{
    DirectoryArgs, DryRunArg, ObjectFormat, PasswordStdinArgs, PluginArgs, ReportFormat,
};
use crate::output::{self, io};
use crate::progress::with_progress;

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
    #[command(flatten)]
    pub plugin: PluginArgs,
    /// Print what the directory queries cost (connections, round trips, time) on stderr.
    #[arg(long)]
    pub stats: bool,
    #[command(flatten)]
    pub directory: DirectoryArgs,
    #[command(flatten)]
    pub password: PasswordStdinArgs,
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
    #[command(flatten)]
    pub password: PasswordStdinArgs,
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
    /// Write nothing; read the directory and print the LDAP changes (LDIF) that would be
    /// made. kubectl's values: --dry-run and --dry-run=client do this; "server" is refused
    /// (LDAP has no dry-run write).
    #[arg(long, value_enum, value_name = "MODE", num_args = 0..=1, default_missing_value = "client", default_value = "none")]
    pub dry_run: DryRunArg,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: ReportFormat,
    #[command(flatten)]
    pub directory: DirectoryArgs,
    #[command(flatten)]
    pub password: PasswordStdinArgs,
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
        directory: a.directory.target(&a.password)?,
        account: a.account.clone(),
        additional_accounts: a.additional_accounts.clone(),
        plugin: a.plugin.request(),
        credspec_name,
    };
    let o = with_progress(async |r| ops::new_credspec(&req, r).await).await;
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
            output::value(out, &v, ObjectFormat::Yaml).map_err(io)?
        }
        Some(CredspecFormat::Resource) => {
            let r = o.resource.as_ref().expect("asked for a resource");
            output::value(out, r, ObjectFormat::Yaml).map_err(io)?
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
        directory: a.directory.target(&a.password)?,
        account: a.account.clone(),
    };
    let o = with_progress(async |r| ops::check_account(&req, r).await).await;
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
    let dry_run = match a.dry_run {
        DryRunArg::None => false,
        DryRunArg::Client => true,
        DryRunArg::Server => {
            return Err(Error::invalid(
                "--dry-run=server is not available for create-account: Active Directory has no dry-run write",
            )
            .with_hint("use --dry-run (or --dry-run=client): it reads the directory and prints the LDIF without writing"))
        }
    };
    let req = ops::CreateAccountRequest {
        directory: a.directory.target(&a.password)?,
        account: a.account.clone(),
        dns_host_name: a.dns_host_name.clone(),
        service_principal_names: a.spns.clone(),
        allowed_principals: a.allowed_principals.clone(),
        create_group: a.create_group.clone(),
        members: a.members.clone(),
        container: a.container.clone(),
        dry_run,
    };
    let o = with_progress(async |r| ops::create_account(&req, r).await).await;
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
