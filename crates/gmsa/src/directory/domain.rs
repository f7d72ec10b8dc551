//! What the directory says about the domain and its accounts: domain facts (rootDSE, the
//! domain head object, the crossRefs under CN=Partitions), gMSAs and other accounts by
//! name, principals by SID, and KDS root keys. Each function is one or two searches.

use ldap3::Scope;
use serde::{Deserialize, Serialize};

use super::codec::{filter_bytes, filter_str, guid_to_string, sid_from_string, sid_to_string};
use super::{Directory, Entry};
use crate::error::{Error, ErrorKind, Result};

/// `userAccountControl` bits this project looks at.
pub const UAC_ACCOUNTDISABLE: i64 = 0x0002;
pub const UAC_WORKSTATION_TRUST_ACCOUNT: i64 = 0x1000;
pub const UAC_TRUSTED_FOR_DELEGATION: i64 = 0x8_0000;

pub const GMSA_CLASS: &str = "msDS-GroupManagedServiceAccount";

/// The facts a credential spec needs about the domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainFacts {
    /// The domain's distinguished name (`DC=contoso,DC=com`).
    pub dn: String,
    /// `S-1-5-21-a-b-c`.
    pub sid: String,
    /// The domain object's objectGUID, lower case, no braces.
    pub guid: String,
    pub dns_name: String,
    pub netbios_name: String,
    /// DNS name of the forest root domain.
    pub forest_dns_name: String,
    /// Every domain of the forest: (DNS name, NetBIOS name).
    pub forest_domains: Vec<(String, String)>,
}

impl DomainFacts {
    /// NetBIOS name of a domain of the forest, by its DNS name.
    pub fn netbios_of(&self, dns: &str) -> Option<&str> {
        let dns = dns.trim_end_matches('.');
        self.forest_domains
            .iter()
            .find(|(d, _)| d.eq_ignore_ascii_case(dns))
            .map(|(_, n)| n.as_str())
    }
}

/// Read the domain facts: two searches (the domain head object, the crossRefs) after
/// the rootDSE that `Directory::connect` already read.
pub async fn domain_facts(dir: &mut Directory) -> Result<DomainFacts> {
    let domain_dn = dir.root.default_naming_context.clone();
    let heads = dir
        .search(
            &domain_dn,
            Scope::Base,
            "(objectClass=*)",
            &["objectSid", "objectGUID"],
        )
        .await
        .map_err(|e| e.context(format_args!("read the domain object {domain_dn}")))?;
    let head = heads.first().ok_or_else(|| {
        Error::new(
            ErrorKind::Forbidden,
            format!(
                "failed to read the domain object {domain_dn}: {} returned nothing",
                dir.server
            ),
        )
        .with_hint("bind as a domain user (anonymous binds see only rootDSE)")
    })?;
    let sid = head
        .bin("objectSid")
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Internal,
                format!("the domain object {domain_dn} has no objectSid"),
            )
        })
        .and_then(|b| {
            sid_to_string(&b).map_err(|m| {
                Error::new(ErrorKind::Internal, format!("the domain's objectSid: {m}"))
            })
        })?;
    let guid = head
        .bin("objectGUID")
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Internal,
                format!("the domain object {domain_dn} has no objectGUID"),
            )
        })
        .and_then(|b| {
            guid_to_string(&b).map_err(|m| {
                Error::new(ErrorKind::Internal, format!("the domain's objectGUID: {m}"))
            })
        })?;

    let partitions = format!("CN=Partitions,{}", dir.root.configuration_naming_context);
    let refs = dir
        .search(
            &partitions,
            Scope::OneLevel,
            "(&(objectClass=crossRef)(nETBIOSName=*))",
            &["nCName", "dnsRoot", "nETBIOSName"],
        )
        .await
        .map_err(|e| {
            e.context(format_args!(
                "read the domains of the forest under {partitions}"
            ))
        })?;
    let find = |nc: &str| {
        refs.iter()
            .find(|r| r.str("nCName").is_some_and(|n| n.eq_ignore_ascii_case(nc)))
    };
    let own = find(&domain_dn).ok_or_else(|| {
        Error::new(
            ErrorKind::Internal,
            format!("no crossRef under {partitions} names the domain {domain_dn}"),
        )
    })?;
    let dns_name = own.str("dnsRoot").unwrap_or_default();
    let netbios_name = own.str("nETBIOSName").unwrap_or_default();
    let forest_dns_name = find(&dir.root.root_domain_naming_context)
        .and_then(|r| r.str("dnsRoot"))
        .unwrap_or_else(|| dns_name.clone());
    let forest_domains = refs
        .iter()
        .filter_map(|r| Some((r.str("dnsRoot")?, r.str("nETBIOSName")?)))
        .collect();
    Ok(DomainFacts {
        dn: domain_dn,
        sid,
        guid,
        dns_name,
        netbios_name,
        forest_dns_name,
        forest_domains,
    })
}

/// An account as found by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub dn: String,
    pub sam_account_name: String,
    pub sid: String,
    pub object_classes: Vec<String>,
    pub is_gmsa: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_account_control: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_host_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_principal_names: Vec<String>,
    /// SIDs allowed by `msDS-GroupMSAMembership` to retrieve the password.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_sids: Vec<String>,
    /// False when the account has no `msDS-GroupMSAMembership` attribute at all.
    #[serde(default)]
    pub has_membership: bool,
}

/// What the bound identity gets when it asks for a gMSA's `msDS-ManagedPassword`
/// (`password_access`; the value itself is never kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "access", content = "reason")]
pub enum PasswordAccess {
    /// The server returned the attribute.
    Readable,
    /// The server left the attribute out (not an allowed principal, or a DC that never
    /// serves it, such as Samba before 4.22).
    Withheld,
    /// The server failed the search (Samba 4.22 on a gMSA with no
    /// `msDS-GroupMSAMembership` at all: LDAP result 1, "no right to view attribute").
    Refused(String),
}

fn account_from(e: &Entry) -> Account {
    let classes = e.strs("objectClass");
    let is_gmsa = classes.iter().any(|c| c.eq_ignore_ascii_case(GMSA_CLASS));
    let allowed_sids = e
        .bin("msDS-GroupMSAMembership")
        .and_then(|sd| super::codec::parse_sd(&sd).ok())
        .map(|(_, aces)| aces.into_iter().map(|a| a.sid).collect())
        .unwrap_or_default();
    Account {
        dn: e.dn().to_owned(),
        sam_account_name: e.str("sAMAccountName").unwrap_or_default(),
        sid: e
            .bin("objectSid")
            .and_then(|b| sid_to_string(&b).ok())
            .unwrap_or_default(),
        object_classes: classes,
        is_gmsa,
        user_account_control: e.int("userAccountControl"),
        dns_host_name: e.str("dNSHostName"),
        service_principal_names: e.strs("servicePrincipalName"),
        allowed_sids,
        has_membership: e.has("msDS-GroupMSAMembership"),
    }
}

/// The attributes `find_accounts` reads. Never `msDS-ManagedPassword`: Samba 4.22 fails a
/// whole search that asks for it on a gMSA without `msDS-GroupMSAMembership`, so it is asked
/// for in a search of its own (`password_access`).
const ACCOUNT_ATTRS: [&str; 8] = [
    "sAMAccountName",
    "objectSid",
    "objectClass",
    "userAccountControl",
    "dNSHostName",
    "servicePrincipalName",
    "msDS-GroupMSAMembership",
    "cn",
];

/// Every object in the domain named like one of `names`: `sAMAccountName` equal to
/// `name` or `name$` (one search).
pub async fn find_accounts(
    dir: &mut Directory,
    domain_dn: &str,
    names: &[&str],
) -> Result<Vec<Account>> {
    let mut filter = String::from("(|");
    for n in names {
        let n = filter_str(n.trim_end_matches('$'));
        filter.push_str(&format!("(sAMAccountName={n}$)(sAMAccountName={n})"));
    }
    filter.push(')');
    let entries = dir
        .search(domain_dn, Scope::Subtree, &filter, &ACCOUNT_ATTRS)
        .await
        .map_err(|e| e.context("look up accounts"))?;
    Ok(entries.iter().map(account_from).collect())
}

/// Whether the bound identity may read the gMSA's `msDS-ManagedPassword`, in a base search
/// of its own. A search the server fails for lack of rights (result 1 or 50) is an answer,
/// `Refused`; a connection failure is an error.
pub async fn password_access(dir: &mut Directory, dn: &str) -> Result<PasswordAccess> {
    match dir
        .search(
            dn,
            Scope::Base,
            "(objectClass=*)",
            &["msDS-ManagedPassword"],
        )
        .await
    {
        Ok(entries) => Ok(if entries.iter().any(|e| e.has("msDS-ManagedPassword")) {
            PasswordAccess::Readable
        } else {
            PasswordAccess::Withheld
        }),
        Err(e) if matches!(e.kind, ErrorKind::Internal | ErrorKind::Forbidden) => {
            Ok(PasswordAccess::Refused(e.message))
        }
        Err(e) => Err(e.context("ask for the managed password")),
    }
}

/// Pick the gMSA called `name` out of `find_accounts`' answer, or say precisely why not.
pub fn the_gmsa<'a>(accounts: &'a [Account], name: &str, server: &str) -> Result<&'a Account> {
    let name = name.trim_end_matches('$');
    let want = format!("{name}$");
    if let Some(a) = accounts
        .iter()
        .find(|a| a.is_gmsa && a.sam_account_name.eq_ignore_ascii_case(&want))
    {
        return Ok(a);
    }
    let same: Vec<&Account> = accounts
        .iter()
        .filter(|a| {
            a.sam_account_name.eq_ignore_ascii_case(name)
                || a.sam_account_name.eq_ignore_ascii_case(&want)
        })
        .collect();
    if let Some(other) = same.first() {
        let class = other
            .object_classes
            .last()
            .cloned()
            .unwrap_or_else(|| "object".into());
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("\"{name}\" is not a group managed service account: {} is a {class}", other.dn),
        )
        .with_hint("name a gMSA (objectClass msDS-GroupManagedServiceAccount); create one with `kubectl gmsa create-account`"));
    }
    Err(Error::new(ErrorKind::NotFound, format!("no gMSA named \"{name}\" in the domain served by {server}"))
        .with_hint(format!("check the name (sAMAccountName {want}), or create it with `kubectl gmsa create-account {name}`")))
}

/// Resolve SIDs to sAMAccountNames; unknown ones are kept as SIDs.
pub async fn names_of_sids(
    dir: &mut Directory,
    domain_dn: &str,
    sids: &[String],
) -> Result<Vec<(String, String)>> {
    if sids.is_empty() {
        return Ok(vec![]);
    }
    let mut filter = String::from("(|");
    for s in sids {
        if let Ok(b) = sid_from_string(s) {
            filter.push_str(&format!("(objectSid={})", filter_bytes(&b)));
        }
    }
    filter.push(')');
    let entries = dir
        .search(
            domain_dn,
            Scope::Subtree,
            &filter,
            &["objectSid", "sAMAccountName"],
        )
        .await
        .map_err(|e| e.context("resolve the allowed principals"))?;
    Ok(sids
        .iter()
        .map(|s| {
            let name = entries
                .iter()
                .find(|e| {
                    e.bin("objectSid")
                        .and_then(|b| sid_to_string(&b).ok())
                        .as_deref()
                        == Some(s.as_str())
                })
                .and_then(|e| e.str("sAMAccountName"))
                .unwrap_or_else(|| s.clone());
            (s.clone(), name)
        })
        .collect())
}

/// The `sAMAccountName`s of the groups among these SIDs that have no members. Only groups
/// the domain's users made (RID 1000 and up) are asked about: built-in groups such as
/// Domain Computers get their members through `primaryGroupID`, not `member`. One search,
/// none when no SID qualifies.
pub async fn empty_groups(
    dir: &mut Directory,
    domain_dn: &str,
    sids: &[String],
) -> Result<Vec<String>> {
    let mut any = String::new();
    for s in sids.iter().filter(|s| user_made_rid(s)) {
        if let Ok(b) = sid_from_string(s) {
            any.push_str(&format!("(objectSid={})", filter_bytes(&b)));
        }
    }
    if any.is_empty() {
        return Ok(vec![]);
    }
    let filter = format!("(&(objectClass=group)(!(member=*))(|{any}))");
    let entries = dir
        .search(domain_dn, Scope::Subtree, &filter, &["sAMAccountName"])
        .await
        .map_err(|e| e.context("look for allowed groups without members"))?;
    let mut names: Vec<String> = entries
        .iter()
        .filter_map(|e| e.str("sAMAccountName"))
        .collect();
    names.sort();
    Ok(names)
}

/// Whether a SID's last part (its RID) is 1000 or more: an account or group made in the
/// domain rather than a built-in one.
fn user_made_rid(sid: &str) -> bool {
    sid.rsplit('-')
        .next()
        .and_then(|r| r.parse::<u32>().ok())
        .is_some_and(|rid| rid >= 1000)
}

/// A principal found by name: its DN and SID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub name: String,
    pub dn: String,
    pub sid: String,
    pub sam_account_name: String,
}

/// Resolve account names (users, groups, computers: `name` or `name$`, any `DOMAIN\`
/// or `@domain` part dropped) to DN and SID, in one search. Errors list every unknown name.
pub async fn principals_by_name(
    dir: &mut Directory,
    domain_dn: &str,
    names: &[String],
) -> Result<Vec<Principal>> {
    if names.is_empty() {
        return Ok(vec![]);
    }
    let bare = |n: &str| -> String {
        let n = n.rsplit_once('\\').map(|(_, a)| a).unwrap_or(n);
        n.split_once('@').map(|(a, _)| a).unwrap_or(n).to_owned()
    };
    let mut filter = String::from("(|");
    for n in names {
        let b = filter_str(bare(n).trim_end_matches('$'));
        filter.push_str(&format!("(sAMAccountName={b})(sAMAccountName={b}$)"));
    }
    filter.push(')');
    let entries = dir
        .search(
            domain_dn,
            Scope::Subtree,
            &filter,
            &["sAMAccountName", "objectSid"],
        )
        .await
        .map_err(|e| e.context("look up principals"))?;
    let mut out = vec![];
    let mut missing = vec![];
    for n in names {
        let b = bare(n);
        let exact = entries.iter().find(|e| {
            e.str("sAMAccountName")
                .is_some_and(|s| s.eq_ignore_ascii_case(&b))
        });
        let dollar = entries.iter().find(|e| {
            e.str("sAMAccountName")
                .is_some_and(|s| s.eq_ignore_ascii_case(&format!("{}$", b.trim_end_matches('$'))))
        });
        match exact.or(dollar) {
            Some(e) => out.push(Principal {
                name: n.clone(),
                dn: e.dn().to_owned(),
                sid: e
                    .bin("objectSid")
                    .and_then(|x| sid_to_string(&x).ok())
                    .unwrap_or_default(),
                sam_account_name: e.str("sAMAccountName").unwrap_or_default(),
            }),
            None => missing.push(n.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!(
                "no account or group named {} in the domain served by {}",
                missing.join(", "),
                dir.server
            ),
        )
        .with_hint("check the names (sAMAccountName of a user, group or computer)"));
    }
    Ok(out)
}

/// A KDS root key: when it becomes usable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdsRootKey {
    pub dn: String,
    /// `msKds-UseStartTime` as Unix seconds.
    pub use_start_unix: Option<i64>,
}

/// The KDS root keys visible to the bound identity, and whether their container is
/// visible at all (one search).
pub async fn kds_root_keys(dir: &mut Directory) -> Result<(bool, Vec<KdsRootKey>)> {
    let base = format!(
        "CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,{}",
        dir.root.configuration_naming_context
    );
    let entries = dir
        .search_opt(
            &base,
            Scope::Subtree,
            "(objectClass=*)",
            &["objectClass", "msKds-UseStartTime"],
        )
        .await
        .map_err(|e| e.context("read the KDS root keys"))?;
    let container = entries.iter().any(|e| e.dn().eq_ignore_ascii_case(&base));
    let keys = entries
        .iter()
        .filter(|e| e.has_class("msKds-ProvRootKey"))
        .map(|e| KdsRootKey {
            dn: e.dn().to_owned(),
            use_start_unix: e
                .int("msKds-UseStartTime")
                .map(super::codec::filetime_to_unix),
        })
        .collect();
    Ok((container, keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_groups_made_in_the_domain_are_checked_for_members() {
        assert!(user_made_rid(
            "S-1-5-21-1004336348-1177238915-682003330-1105"
        ));
        assert!(user_made_rid("S-1-5-21-1-2-3-1000"));
        // Domain Computers (515): members through primaryGroupID.
        assert!(!user_made_rid("S-1-5-21-1-2-3-515"));
        assert!(!user_made_rid("S-1-5-32-544"));
        assert!(!user_made_rid("not a sid"));
    }
}
