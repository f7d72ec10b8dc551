//! The credential spec commands (`lint`, `convert`, `add-credspec`, `remove-credspec`,
//! `bind-role`, `unbind-role`, `get`, `check-access`, `create-secret`): their flags, the
//! requests they build, and how their outcomes are printed. The work is in `gmsa::ops`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use gmsa::ops::{self, CredspecSource};
use gmsa::{Error, ErrorKind};

use crate::args::{
    ClusterArgs, HostAccountArgs, ListFormat, ObjectFormat, ReportFormat, WriteArgs,
};
use crate::output::{self, io};
use crate::progress::with_progress;

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Credential spec JSON files (UTF-8 or UTF-16, any line ends); - reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: ReportFormat,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The credential spec JSON file; - reads standard input.
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
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The credential spec JSON file (from New-CredentialSpec or `kubectl gmsa new-credspec`);
    /// - reads standard input: kubectl gmsa new-credspec ... | kubectl gmsa add-credspec --credspec-file -
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
    #[command(flatten)]
    pub host_account: HostAccountArgs,
    /// Replace existing objects that differ, and take fields other tools manage.
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Args)]
pub struct RemoveCredspecArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Name of the GMSACredentialSpec resource (or --credspec-name).
    #[arg(
        value_name = "NAME",
        required_unless_present = "credspec_name",
        conflicts_with = "credspec_name"
    )]
    pub name: Option<String>,
    /// Name of the GMSACredentialSpec resource.
    #[arg(long, value_name = "NAME")]
    pub credspec_name: Option<String>,
    /// Name of its ClusterRole (default: the ClusterRoles kubectl-gmsa made for this credential
    /// spec, found by their kubectl-gmsa/credspec annotation, and <credspec-name>-gmsa-user).
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
    #[command(flatten)]
    pub cluster: ClusterArgs,
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
    #[command(flatten)]
    pub cluster: ClusterArgs,
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
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// One credential spec (default: all).
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// Output format (default: a table).
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<ListFormat>,
    /// Return large lists in chunks of this many objects (0: all at once), as kubectl does.
    #[arg(long, value_name = "N", default_value_t = gmsa::ops::DEFAULT_CHUNK_SIZE)]
    pub chunk_size: u32,
    /// Every namespace's service accounts (the default; overrides -n given before the command).
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub all_namespaces: bool,
}

#[derive(Debug, Args)]
pub struct CheckAccessArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
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
    #[command(flatten)]
    pub cluster: ClusterArgs,
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

pub fn lint(out: &mut dyn Write, a: LintArgs) -> Result<ExitCode, Error> {
    let mut any_error = false;
    let mut reports = vec![];
    for f in &a.files {
        let source = gmsa::credspec::file_label(f);
        let req = ops::LintRequest {
            source: CredspecSource {
                credspec_file: Some(f.clone()),
                credspec: None,
            },
        };
        match ops::lint(&req) {
            Ok(o) => {
                any_error |= o.errors > 0;
                if a.output == ReportFormat::Text {
                    output::findings(out, &source, &o.findings, std::io::stdout().is_terminal())
                        .map_err(io)?;
                    if o.findings.is_empty() {
                        writeln!(out, "{source}: ok").map_err(io)?;
                    }
                }
                reports.push(serde_json::json!({ "file": source, "findings": o.findings, "errors": o.errors, "warnings": o.warnings }));
            }
            Err(e) => {
                any_error = true;
                if a.output == ReportFormat::Text {
                    output::error(&e);
                }
                reports.push(serde_json::json!({ "file": source, "error": e.message }));
            }
        }
    }
    if a.output == ReportFormat::Json {
        output::json(out, &reports)?;
    }
    Ok(if any_error {
        ExitCode::from(ErrorKind::InvalidInput.exit_code() as u8)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn convert(out: &mut dyn Write, a: ConvertArgs) -> Result<ExitCode, Error> {
    let o = ops::convert(&ops::ConvertRequest {
        source: CredspecSource {
            credspec_file: Some(a.file.clone()),
            credspec: None,
        },
        credspec_name: a.credspec_name,
    })?;
    output::findings(
        &mut std::io::stderr(),
        &gmsa::credspec::file_label(&a.file),
        &o.findings,
        std::io::stderr().is_terminal(),
    )
    .map_err(io)?;
    output::value(out, &o.resource, a.output).map_err(io)?;
    Ok(ExitCode::SUCCESS)
}

pub async fn add_credspec(
    out: &mut dyn Write,
    before: &ClusterArgs,
    a: AddCredspecArgs,
) -> Result<ExitCode, Error> {
    let c = &a.cluster.or(before);
    let host_account = a.host_account.request()?;
    let req = ops::AddCredspecRequest {
        target: c.target(),
        source: CredspecSource {
            credspec_file: Some(a.credspec_file.clone()),
            credspec: None,
        },
        credspec_name: a.credspec_name,
        cluster_role_name: a.cluster_role_name,
        service_accounts: a.service_accounts,
        namespace: c.namespace.clone(),
        host_account,
        overwrite: a.overwrite,
        dry_run: a.write.dry_run.into(),
    };
    let o = with_progress(async |r| ops::add_credspec(&req, r).await).await;
    let o = o?;
    output::findings(
        &mut std::io::stderr(),
        &gmsa::credspec::file_label(&a.credspec_file),
        &o.findings,
        std::io::stderr().is_terminal(),
    )
    .map_err(io)?;
    output::outcome(out, &o, &a.write)
}

pub async fn remove_credspec(
    out: &mut dyn Write,
    before: &ClusterArgs,
    a: RemoveCredspecArgs,
) -> Result<ExitCode, Error> {
    let c = &a.cluster.or(before);
    let req = ops::RemoveCredspecRequest {
        target: c.target(),
        credspec_name: a.name.or(a.credspec_name).unwrap_or_default(),
        cluster_role_name: a.cluster_role_name,
        service_accounts: a.service_accounts,
        namespace: c.namespace.clone(),
        dry_run: a.write.dry_run.into(),
    };
    let o = with_progress(async |r| ops::remove_credspec(&req, r).await).await;
    output::outcome(out, &o?, &a.write)
}

pub async fn bind_role(
    out: &mut dyn Write,
    before: &ClusterArgs,
    a: BindRoleArgs,
) -> Result<ExitCode, Error> {
    let c = &a.cluster.or(before);
    let req = ops::BindRoleRequest {
        target: c.target(),
        cluster_role_name: a.cluster_role_name,
        service_accounts: a.service_accounts,
        namespace: c.namespace.clone(),
        overwrite: a.overwrite,
        dry_run: a.write.dry_run.into(),
    };
    let o = with_progress(async |r| ops::bind_role(&req, r).await).await;
    output::outcome(out, &o?, &a.write)
}

pub async fn unbind_role(
    out: &mut dyn Write,
    before: &ClusterArgs,
    a: UnbindRoleArgs,
) -> Result<ExitCode, Error> {
    let c = &a.cluster.or(before);
    let req = ops::UnbindRoleRequest {
        target: c.target(),
        cluster_role_name: a.cluster_role_name,
        service_accounts: a.service_accounts,
        namespace: c.namespace.clone(),
        dry_run: a.write.dry_run.into(),
    };
    let o = with_progress(async |r| ops::unbind_role(&req, r).await).await;
    output::outcome(out, &o?, &a.write)
}

pub async fn get(out: &mut dyn Write, before: &ClusterArgs, a: GetArgs) -> Result<ExitCode, Error> {
    let c = &a.cluster.or(before);
    let include = matches!(a.output, Some(ListFormat::Yaml | ListFormat::Json));
    let namespace = if a.all_namespaces {
        None
    } else {
        c.namespace.clone()
    };
    let req = ops::GetRequest {
        target: c.target(),
        name: a.name.clone(),
        include_resources: include,
        chunk_size: Some(a.chunk_size),
        namespace: namespace.clone(),
    };
    let o = ops::get(&req, &gmsa::progress::Silent).await?;
    match a.output {
        Some(ListFormat::Yaml) | Some(ListFormat::Json) => {
            let format = if a.output == Some(ListFormat::Yaml) {
                ObjectFormat::Yaml
            } else {
                ObjectFormat::Json
            };
            // The specs, then the roles and bindings that let service accounts use them:
            // what the table shows, as objects `kubectl apply -f` takes back.
            let objs: Vec<serde_json::Value> = o
                .items
                .into_iter()
                .filter_map(|i| i.resource)
                .chain(o.rbac)
                .map(output::exported)
                .collect();
            output::list(out, objs, format).map_err(io)?;
        }
        wide => {
            if o.items.is_empty() {
                match &namespace {
                    Some(ns) => eprintln!(
                        "No credential specs that a service account in namespace {ns} may use."
                    ),
                    None => eprintln!("No credential specs found."),
                }
                return Ok(ExitCode::SUCCESS);
            }
            let wide = wide == Some(ListFormat::Wide);
            let mut header = vec!["NAME", "ACCOUNT", "DOMAIN", "SERVICE ACCOUNTS"];
            if wide {
                header.extend(["NETBIOS", "CLUSTER ROLES", "CCG PLUG-IN"]);
            }
            let rows: Vec<Vec<String>> = o
                .items
                .iter()
                .map(|i| {
                    let sas = if i.service_accounts.is_empty() {
                        "<none>".into()
                    } else {
                        i.service_accounts.join(",")
                    };
                    let mut row = vec![i.name.clone(), i.account.clone(), i.domain.clone(), sas];
                    if wide {
                        row.push(i.net_bios_name.clone());
                        row.push(if i.cluster_roles.is_empty() {
                            "<none>".into()
                        } else {
                            i.cluster_roles.join(",")
                        });
                        row.push(i.plugin_guid.clone().unwrap_or_else(|| "<none>".into()));
                    }
                    row
                })
                .collect();
            output::table(out, &header, &rows).map_err(io)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn check_access(
    out: &mut dyn Write,
    before: &ClusterArgs,
    a: CheckAccessArgs,
) -> Result<ExitCode, Error> {
    let c = &a.cluster.or(before);
    let req = ops::CheckAccessRequest {
        target: c.target(),
        credspec_name: a.credspec_name,
        service_accounts: a.service_accounts,
        namespace: c.namespace.clone(),
    };
    let o = ops::check_access(&req).await?;
    if a.output == ReportFormat::Json {
        output::json(out, &o)?;
    } else {
        for ans in &o.answers {
            let verdict = if ans.allowed {
                "may use"
            } else {
                "may NOT use"
            };
            writeln!(
                out,
                "{} {verdict} gmsacredentialspec/{}",
                ans.service_account, o.credspec_name
            )
            .map_err(io)?;
        }
        if let Some(hint) = grant_hint(&o) {
            eprintln!("hint: {hint}");
        }
    }
    Ok(if o.answers.iter().all(|a| a.allowed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(ErrorKind::Forbidden.exit_code() as u8)
    })
}

/// For a "may NOT use" answer: the exact command that lets those service accounts use the
/// credential spec (`bind-role` to its ClusterRole, or `add-credspec` when it has none).
fn grant_hint(o: &ops::CheckAccessOutcome) -> Option<String> {
    let denied: Vec<String> = o
        .answers
        .iter()
        .filter(|a| !a.allowed)
        .map(|a| format!("--service-account {}", a.service_account))
        .collect();
    if denied.is_empty() {
        return None;
    }
    let sas = denied.join(" ");
    Some(match &o.cluster_role {
        Some(role) => format!(
            "to let {} use it: kubectl gmsa bind-role --cluster-role-name {role} {sas}",
            if denied.len() == 1 { "it" } else { "them" }
        ),
        None => format!(
            "no ClusterRole made by kubectl-gmsa grants use of {0}; make one and bind it: kubectl gmsa add-credspec --credspec-file FILE --credspec-name {0} {sas}",
            o.credspec_name
        ),
    })
}

pub async fn create_secret(
    out: &mut dyn Write,
    before: &ClusterArgs,
    a: CreateSecretArgs,
) -> Result<ExitCode, Error> {
    let c = &a.cluster.or(before);
    let password = read_password(a.password_stdin)?;
    let req = ops::CreateSecretRequest {
        target: c.target(),
        secret_name: a.name,
        namespace: c.namespace.clone(),
        domain: a.domain,
        username: a.username,
        password,
        overwrite: a.overwrite,
        dry_run: a.write.dry_run.into(),
    };
    let o = with_progress(async |r| ops::create_secret(&req, r).await).await;
    output::outcome(out, &o?, &a.write)
}

/// The domain user's password: from standard input with --password-stdin, else a hidden
/// prompt on the terminal. Never from the command line.
fn read_password(from_stdin: bool) -> Result<String, Error> {
    if from_stdin {
        return crate::args::password_from_stdin();
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Error::invalid("no terminal to ask for the password")
            .with_hint("pipe it in with --password-stdin"));
    }
    dialoguer::Password::new()
        .with_prompt("Password of the domain user")
        .interact()
        .map_err(|e| Error::invalid(format!("failed to read the password: {e}")))
}
