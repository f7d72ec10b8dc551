//! What `create-account` writes, as LDIF shows it and as the wire carries it: LDAP adds,
//! the SDDL of a gMSA's password readers, base64 values, and a DN's domain as DNS name.

use serde::{Deserialize, Serialize};

use super::codec;

/// One LDAP add, as LDIF would show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LdapAdd {
    pub dn: String,
    /// Attribute, values (binary values base64 with a `::` in the LDIF).
    pub attributes: Vec<(String, Vec<String>)>,
    /// A readable form of a binary value (the SDDL of the security descriptor).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<String>,
}

/// A DN's domain part as a DNS name (`DC=contoso,DC=com` -> `contoso.com`).
pub fn dns_of_dn(dn: &str) -> String {
    dn.split(',')
        .filter_map(|p| p.trim().split_once('='))
        .filter(|(k, _)| k.eq_ignore_ascii_case("DC"))
        .map(|(_, v)| v)
        .collect::<Vec<_>>()
        .join(".")
}

pub fn sddl(sids: &[String]) -> String {
    let aces: String = sids
        .iter()
        .map(|s| format!("(A;;0x{:x};;;{s})", codec::GMSA_MEMBERSHIP_MASK))
        .collect();
    format!("O:{}D:{aces}", codec::BUILTIN_ADMINISTRATORS)
}

pub fn b64(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

pub fn to_ldif(changes: &[LdapAdd]) -> String {
    let mut s = String::new();
    for c in changes {
        for comment in &c.comments {
            s.push_str(&format!("# {comment}\n"));
        }
        s.push_str(&format!("dn: {}\nchangetype: add\n", c.dn));
        for (k, vs) in &c.attributes {
            for v in vs {
                s.push_str(&format!("{k}: {v}\n"));
            }
        }
        s.push('\n');
    }
    s
}

/// The attributes of an `LdapAdd` as bytes for the wire (`name:` marks base64 values).
pub fn ldif_attrs(a: &LdapAdd) -> Vec<(String, Vec<Vec<u8>>)> {
    use base64::Engine;
    a.attributes
        .iter()
        .map(|(k, vs)| match k.strip_suffix(':') {
            Some(k) => (
                k.to_owned(),
                vs.iter()
                    .map(|v| {
                        base64::engine::general_purpose::STANDARD
                            .decode(v)
                            .expect("we encoded it")
                    })
                    .collect(),
            ),
            None => (
                k.clone(),
                vs.iter().map(|v| v.as_bytes().to_vec()).collect(),
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_name_of_a_dn() {
        assert_eq!(dns_of_dn("DC=contoso,DC=com"), "contoso.com");
        assert_eq!(dns_of_dn("CN=x,DC=a, dc=b"), "a.b");
    }

    #[test]
    fn ldif_shows_base64_and_sddl() {
        let sd = codec::gmsa_membership_sd(&["S-1-5-21-1-2-3-1000".into()]).unwrap();
        let add = LdapAdd {
            dn: "CN=a,DC=x".into(),
            attributes: vec![
                ("sAMAccountName".into(), vec!["a$".into()]),
                ("msDS-GroupMSAMembership:".into(), vec![b64(&sd)]),
            ],
            comments: vec![format!(
                "msDS-GroupMSAMembership: {}",
                sddl(&["S-1-5-21-1-2-3-1000".into()])
            )],
        };
        let l = to_ldif(std::slice::from_ref(&add));
        assert!(
            l.contains(
                "# msDS-GroupMSAMembership: O:S-1-5-32-544D:(A;;0xf01ff;;;S-1-5-21-1-2-3-1000)"
            ),
            "{l}"
        );
        assert!(l.contains("msDS-GroupMSAMembership:: AQAEgBQ"), "{l}");
        let wire = ldif_attrs(&add);
        assert_eq!(wire[1].0, "msDS-GroupMSAMembership");
        assert_eq!(wire[1].1[0], sd);
    }
}
