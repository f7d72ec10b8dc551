//! `kubectl gmsa`: parses the command line, fills the core's requests, runs them, prints
//! the outcomes, and exits with a code per error class (see `gmsa::ErrorKind`).

mod cli;
mod commands;
mod directory_cmds;
mod output;
mod progress;
mod version;
mod webhook_cmds;
mod wizard;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use gmsa::ops::{self, ApplyOutcome, CredspecSource};
use gmsa::{Error, ErrorKind};

use cli::{Cli, Command, ListFormat, ObjectFormat, ReportFormat, WriteArgs};
use output::io;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            output::error(&e);
            ExitCode::from(e.kind.exit_code() as u8)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Error> {
    let mut stdout = std::io::stdout().lock();
    let out: &mut dyn Write = &mut stdout;
    let c = &cli.cluster;
    match cli.command {
        Command::Lint(a) => {
            let mut any_error = false;
            let mut reports = vec![];
            for f in &a.files {
                let source = f.display().to_string();
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
                            output::findings(
                                out,
                                &source,
                                &o.findings,
                                std::io::stdout().is_terminal(),
                            )
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
        Command::Convert(a) => {
            let o = ops::convert(&ops::ConvertRequest {
                source: CredspecSource {
                    credspec_file: Some(a.file.clone()),
                    credspec: None,
                },
                credspec_name: a.credspec_name,
            })?;
            output::findings(
                &mut std::io::stderr(),
                &a.file.display().to_string(),
                &o.findings,
                std::io::stderr().is_terminal(),
            )
            .map_err(io)?;
            output::value(out, &o.resource, a.output).map_err(io)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::AddCredspec(a) => {
            let host_account = a
                .secret_name
                .clone()
                .map(|secret_name| ops::HostAccountRequest {
                    secret_name,
                    secret_namespace: Some(a.secret_namespace.clone()),
                    ccg_plugin: a.ccg_plugin.map(Into::into),
                    plugin_guid: a.plugin_guid.clone(),
                    plugin_input: a.plugin_input.clone(),
                });
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
            let spinner = progress::Spinner::new();
            let o = ops::add_credspec(&req, &spinner).await;
            spinner.finish();
            let o = o?;
            output::findings(
                &mut std::io::stderr(),
                &a.credspec_file.display().to_string(),
                &o.findings,
                std::io::stderr().is_terminal(),
            )
            .map_err(io)?;
            print_outcome(out, &o, &a.write)
        }
        Command::RemoveCredspec(a) => {
            let req = ops::RemoveCredspecRequest {
                target: c.target(),
                credspec_name: a.credspec_name,
                cluster_role_name: a.cluster_role_name,
                service_accounts: a.service_accounts,
                namespace: c.namespace.clone(),
                dry_run: a.write.dry_run.into(),
            };
            let spinner = progress::Spinner::new();
            let o = ops::remove_credspec(&req, &spinner).await;
            spinner.finish();
            print_outcome(out, &o?, &a.write)
        }
        Command::BindRole(a) => {
            let req = ops::BindRoleRequest {
                target: c.target(),
                cluster_role_name: a.cluster_role_name,
                service_accounts: a.service_accounts,
                namespace: c.namespace.clone(),
                overwrite: a.overwrite,
                dry_run: a.write.dry_run.into(),
            };
            let spinner = progress::Spinner::new();
            let o = ops::bind_role(&req, &spinner).await;
            spinner.finish();
            print_outcome(out, &o?, &a.write)
        }
        Command::UnbindRole(a) => {
            let req = ops::UnbindRoleRequest {
                target: c.target(),
                cluster_role_name: a.cluster_role_name,
                service_accounts: a.service_accounts,
                namespace: c.namespace.clone(),
                dry_run: a.write.dry_run.into(),
            };
            let spinner = progress::Spinner::new();
            let o = ops::unbind_role(&req, &spinner).await;
            spinner.finish();
            print_outcome(out, &o?, &a.write)
        }
        Command::Get(a) => {
            let include = matches!(a.output, Some(ListFormat::Yaml | ListFormat::Json));
            let req = ops::GetRequest {
                target: c.target(),
                name: a.name.clone(),
                include_resources: include,
                chunk_size: Some(a.chunk_size),
            };
            let o = ops::get(&req, &gmsa::progress::Silent).await?;
            match a.output {
                Some(ListFormat::Yaml) | Some(ListFormat::Json) => {
                    let format = if a.output == Some(ListFormat::Yaml) {
                        ObjectFormat::Yaml
                    } else {
                        ObjectFormat::Json
                    };
                    let objs: Vec<serde_json::Value> = o
                        .items
                        .into_iter()
                        .filter_map(|i| i.resource)
                        .map(|mut v| {
                            if let Some(m) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                                m.remove("managedFields");
                            }
                            v
                        })
                        .collect();
                    if a.name.is_some() {
                        output::objects(out, objs, format).map_err(io)?;
                    } else {
                        let list = serde_json::json!({ "apiVersion": "v1", "kind": "List", "metadata": {}, "items": objs });
                        output::value(out, &list, format).map_err(io)?;
                    }
                }
                wide => {
                    if o.items.is_empty() {
                        eprintln!("No credential specs found.");
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
                            let mut row =
                                vec![i.name.clone(), i.account.clone(), i.domain.clone(), sas];
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
        Command::CheckAccess(a) => {
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
            }
            Ok(if o.answers.iter().all(|a| a.allowed) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(ErrorKind::Forbidden.exit_code() as u8)
            })
        }
        Command::CreateSecret(a) => {
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
            let spinner = progress::Spinner::new();
            let o = ops::create_secret(&req, &spinner).await;
            spinner.finish();
            print_outcome(out, &o?, &a.write)
        }
        Command::NewCredspec(a) => directory_cmds::new_credspec(a, out).await,
        Command::CheckAccount(a) => directory_cmds::check_account(a, out).await,
        Command::CreateAccount(a) => directory_cmds::create_account(a, out).await,
        Command::InstallWebhook(a) => webhook_cmds::install(out, c, a).await,
        Command::UninstallWebhook(a) => webhook_cmds::uninstall(out, c, a).await,
        Command::RotateCerts(a) => webhook_cmds::rotate(out, c, a).await,
        Command::Status(a) => webhook_cmds::status(out, c, a).await,
        Command::Wizard(a) => wizard::run(out, c, a).await,
        Command::Doctor(a) => commands::doctor::run(out, c, a).await,
        Command::Attach(a) => commands::attach::run(out, c, a).await,
        Command::Version(a) => {
            if a.output == ReportFormat::Json {
                let v = serde_json::json!({ "version": version::SHORT, "commit": version::COMMIT, "target": version::TARGET });
                output::json(out, &v)?;
            } else {
                writeln!(out, "kubectl-gmsa {}", version::LONG).map_err(io)?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_outcome(out: &mut dyn Write, o: &ApplyOutcome, w: &WriteArgs) -> Result<ExitCode, Error> {
    match w.output {
        Some(format) => output::objects(out, output::outcome_objects(o), format).map_err(io)?,
        None => output::summary(out, o).map_err(io)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The domain user's password: from standard input with --password-stdin, else a hidden
/// prompt on the terminal. Never from the command line.
fn read_password(from_stdin: bool) -> Result<String, Error> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(|e| {
            Error::invalid(format!(
                "failed to read the password from standard input: {e}"
            ))
        })?;
        let p = line.trim_end_matches(['\r', '\n']).to_owned();
        if p.is_empty() {
            return Err(Error::invalid("no password on standard input"));
        }
        return Ok(p);
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
