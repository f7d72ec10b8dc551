//! Step 6 for nodes that are not domain joined: the ccg.exe plug-in, and the Secret with
//! the domain user it reads.

use gmsa::cluster::DryRun;
use gmsa::credspec::CcgPlugin;
use gmsa::ops::{self, HostAccountRequest};
use gmsa::Error;

use super::ask::Ask;
use super::plan::{Plan, WizardArgs};

/// Step 6 for nodes that are not domain joined: the ccg.exe plug-in and the domain user.
pub(crate) fn non_domain_joined(
    ask: &Ask<'_>,
    a: &WizardArgs,
    plan: &mut Plan,
    dns_name: &str,
) -> Result<(), Error> {
    let interactive = ask.interactive;
    let plugin: CcgPlugin = match a.ccg_plugin {
        Some(p) => p.into(),
        None if interactive => {
            let names = [
                "rancher (reads a Kubernetes secret)".to_owned(),
                "azure-key-vault".to_owned(),
                "aws".to_owned(),
            ];
            let i = ask.select("ccg.exe plug-in on the nodes", &names, 0)?;
            [CcgPlugin::Rancher, CcgPlugin::AzureKeyVault, CcgPlugin::Aws][i]
        }
        None => CcgPlugin::Rancher,
    };
    let secret_name = match &a.secret_name {
        Some(s) => s.clone(),
        None => ask.text(
            "Name of the Secret with the domain user",
            Some("gmsa-domain-user".into()),
            gmsa::names::check_subdomain,
        )?,
    };
    let secret_namespace = a
        .secret_namespace
        .clone()
        .unwrap_or_else(|| gmsa::cluster::objects::DEFAULT_SECRET_NAMESPACE.into());
    let plugin_input = match (&a.plugin_input, plugin) {
        (Some(i), _) => Some(i.clone()),
        (None, CcgPlugin::Rancher) => None,
        (None, _) if interactive => Some(ask.text("Plug-in input", None, |s| {
            if s.is_empty() {
                Err("this plug-in needs an input".to_owned())
            } else {
                Ok(())
            }
        })?),
        (None, _) => {
            return Err(Error::invalid(
                "the wizard is missing: --plugin-input (this ccg plug-in needs one)",
            ))
        }
    };
    plan.add.host_account = Some(HostAccountRequest {
        secret_name: secret_name.clone(),
        secret_namespace: Some(secret_namespace.clone()),
        ccg_plugin: Some(plugin),
        plugin_guid: None,
        plugin_input,
    });
    if plugin == CcgPlugin::Rancher
        && interactive
        && ask.confirm(
            &format!(
                "Create the Secret {secret_namespace}/{secret_name} with the domain user now?"
            ),
            true,
        )?
    {
        let domain = ask.text(
            "Domain",
            Some(dns_name.to_owned()),
            gmsa::names::check_dns_domain,
        )?;
        let username = ask.text(
            "Domain user allowed to read the gMSA password (without the domain)",
            None,
            check_user_name,
        )?;
        let password = ask.password("Its password")?;
        plan.secret = Some(ops::CreateSecretRequest {
            target: plan.add.target.clone(),
            secret_name,
            namespace: Some(secret_namespace),
            domain,
            username,
            password,
            overwrite: a.overwrite,
            dry_run: DryRun::None,
        });
    }
    Ok(())
}

/// The domain user of the Secret, as create-secret checks it: a bare name.
fn check_user_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        Err("must not be empty".into())
    } else if s.contains('\\') || s.contains('@') {
        Err(format!(
            "\"{s}\" has a domain part; the domain is asked for above: give the bare user name"
        ))
    } else {
        Ok(())
    }
}
