//! Step 3: the credential spec, from a file, from Active Directory (what new-credspec
//! does) or pasted; linted and shown.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use gmsa::credspec::{self, CredentialSpec};
use gmsa::directory::{DirectoryTarget, PASSWORD_ENV};
use gmsa::ops::{self, CredspecSource, NewCredspecRequest};
use gmsa::Error;

use super::ask::{say, show_findings, show_spec, Ask};
use super::plan::{password_from_env, Origin, WizardArgs};
use crate::output;
use crate::progress::with_progress;

/// The usual places of credential spec files: Docker's CredentialSpecs folder on Windows,
/// and the current folder.
pub(crate) fn usual_files() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(".")];
    if cfg!(windows) {
        if let Some(pd) = std::env::var_os("ProgramData") {
            dirs.push(Path::new(&pd).join("docker").join("CredentialSpecs"));
        }
    }
    let mut found = vec![];
    for d in dirs {
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("json"))
                    && std::fs::read_to_string(&p).is_ok_and(|t| t.contains("DomainJoinConfig"))
                {
                    found.push(p);
                }
            }
        }
    }
    found.sort();
    found
}

/// Step 3: the credential spec, from a file, from Active Directory, or pasted; linted.
pub(crate) async fn credspec_step(
    ask: &Ask<'_>,
    a: &WizardArgs,
) -> Result<(CredentialSpec, CredspecSource, Origin), Error> {
    enum Pick {
        File(PathBuf),
        Directory,
        Paste,
    }
    let pick = if let Some(f) = &a.credspec_file {
        Pick::File(f.clone())
    } else if a.account.is_some() {
        Pick::Directory
    } else if ask.interactive {
        let found = usual_files();
        let mut choices: Vec<String> = found
            .iter()
            .map(|p| format!("file {}", p.display()))
            .collect();
        choices.push("generate it from Active Directory (LDAP)".into());
        choices.push("paste the JSON".into());
        choices.push("another file...".into());
        let i = ask.select("Credential spec", &choices, 0)?;
        if i < found.len() {
            Pick::File(found[i].clone())
        } else if i == found.len() {
            Pick::Directory
        } else if i == found.len() + 1 {
            Pick::Paste
        } else {
            Pick::File(PathBuf::from(ask.text(
                "Path of the credential spec JSON file",
                None,
                |s| {
                    if Path::new(s).is_file() {
                        Ok(())
                    } else {
                        Err(format!("{s}: no such file"))
                    }
                },
            )?))
        }
    } else {
        unreachable!("checked by missing_flags")
    };
    match pick {
        Pick::File(file) => {
            let checked = credspec::check_file(&file)?;
            let source = file.display().to_string();
            show_findings(&source, &checked.findings);
            let (spec, _) = credspec::into_spec(checked, &source)?;
            show_spec(&spec);
            Ok((
                spec,
                CredspecSource {
                    credspec_file: Some(file.clone()),
                    credspec: None,
                },
                Origin::File(file),
            ))
        }
        Pick::Paste => {
            let value = read_pasted()?;
            let checked = credspec::check_value(&value);
            show_findings("pasted credential spec", &checked.findings);
            let (spec, _) = credspec::into_spec(checked, "pasted")?;
            show_spec(&spec);
            let file = format!(
                "{}_{}.json",
                spec.domain_join_config.net_bios_name.to_lowercase(),
                spec.account().to_lowercase()
            );
            Ok((
                spec,
                CredspecSource {
                    credspec_file: None,
                    credspec: Some(value),
                },
                Origin::Pasted { file },
            ))
        }
        Pick::Directory => {
            // A wrong answer (server, CA, password...) is asked again, with the others kept.
            let mut previous: Option<NewCredspecRequest> = None;
            let (request, o) = loop {
                let request = directory_request(ask, a, previous.as_ref())?;
                let o = with_progress(async |r| ops::new_credspec(&request, r).await).await;
                match o {
                    Ok(o) => break (request, o),
                    Err(e) => {
                        let e = e.context("generate the credential spec from the directory");
                        if !ask.interactive {
                            return Err(e);
                        }
                        output::error(&e);
                        if !ask.confirm("Change the answers and try again?", true)? {
                            return Err(Error::new(
                                e.kind,
                                "the wizard stopped: no credential spec; nothing was written",
                            ));
                        }
                        previous = Some(request);
                    }
                }
            };
            say(&format!(
                "Read from {}: the domain {} ({}), forest {}",
                request
                    .directory
                    .server_url()
                    .map(|u| u.url().to_string())
                    .unwrap_or_default(),
                o.domain.dns_name,
                o.domain.netbios_name,
                o.domain.forest_dns_name
            ));
            show_findings("credential spec", &o.findings);
            say(&o.credspec.to_json_pretty());
            show_spec(&o.credspec);
            let value = serde_json::to_value(&o.credspec).expect("serializes");
            Ok((
                o.credspec,
                CredspecSource {
                    credspec_file: None,
                    credspec: Some(value),
                },
                Origin::Directory {
                    request: Box::new(request),
                    file: o.default_file_name,
                },
            ))
        }
    }
}

/// The `new-credspec` request: each answer from its flag, else asked. The password comes
/// from $GMSA_LDAP_PASSWORD or a hidden prompt, never from the command line.
/// After a failed try, `previous` holds the answers to offer again.
pub(crate) fn directory_request(
    ask: &Ask<'_>,
    a: &WizardArgs,
    previous: Option<&NewCredspecRequest>,
) -> Result<NewCredspecRequest, Error> {
    let d = &a.directory;
    let before = previous.map(|p| &p.directory);
    let account = match &a.account {
        Some(n) => n.clone(),
        None => ask.text(
            "gMSA account name (sAMAccountName)",
            previous.map(|p| p.account.clone()),
            |s| gmsa::names::check_account_name(s.trim_end_matches('$')),
        )?,
    };
    let server = match (&d.server, &d.domain) {
        (Some(s), _) => Some(s.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(ask.text(
            "Domain controller: ldaps://HOST[:PORT], or ldap://HOST[:PORT] (StartTLS; Kerberos seals it)",
            before.and_then(|b| b.server.clone()),
            |s| {
                DirectoryTarget {
                    server: Some(s.to_owned()),
                    ..Default::default()
                }
                .server_url()
                .map(|_| ())
                .map_err(|e| e.message)
            },
        )?),
    };
    let ca_file = match &d.ca_file {
        Some(f) => Some(f.clone()),
        None if ask.interactive => ask
            .optional(
                "PEM file of the CA that signed the DC's certificate (empty: the system's trust store)",
                before
                    .and_then(|b| b.ca_file.as_ref())
                    .and_then(|f| f.to_str()),
                |s| {
                    if Path::new(s).is_file() {
                        Ok(())
                    } else {
                        Err(format!("{s}: no such file"))
                    }
                },
            )?
            .map(PathBuf::from),
        None => None,
    };
    let user = match &d.user {
        Some(u) => Some(u.clone()),
        None if ask.interactive => ask.optional(
            "Bind as (user@domain or DOMAIN\\user; empty: Kerberos with your kinit ticket)",
            before.and_then(|b| b.user.as_deref()),
            |_| Ok(()),
        )?,
        None => None,
    };
    let password = match &user {
        None => None,
        // After a failed try, the environment's password is not used again.
        Some(u) => match password_from_env().filter(|_| previous.is_none()) {
            Some(p) => {
                say(&format!("  password of {u}: from ${PASSWORD_ENV}"));
                Some(p)
            }
            None if ask.interactive => Some(ask.password(&format!("Password of {u}"))?),
            None => unreachable!("checked by missing_flags"),
        },
    };
    Ok(NewCredspecRequest {
        directory: DirectoryTarget {
            server,
            domain: d.domain.clone(),
            dns_server: d.dns_server.clone(),
            ca_file,
            user,
            password,
            timeout_secs: Some(d.timeout),
        },
        account,
        additional_accounts: a.additional_accounts.clone(),
        plugin: ops::PluginRequest::default(),
        credspec_name: None,
    })
}

/// Read a pasted JSON document from the terminal: it ends when it parses (or at an empty
/// line after some text).
pub(crate) fn read_pasted() -> Result<serde_json::Value, Error> {
    say("Paste the credential spec JSON (it ends when the braces close; Ctrl-C stops):");
    let stdin = std::io::stdin();
    let mut text = String::new();
    loop {
        let mut line = String::new();
        let n = stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::invalid(format!("failed to read the pasted text: {e}")))?;
        text.push_str(&line);
        if let Ok(v) = credspec::model::parse_value(&text) {
            return Ok(v);
        }
        if n == 0 || (line.trim().is_empty() && !text.trim().is_empty()) {
            return credspec::model::parse_value(&text)
                .map_err(|e| e.context("read the pasted credential spec"));
        }
    }
}
