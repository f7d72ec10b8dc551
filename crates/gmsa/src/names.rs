//! Name rules: Kubernetes object names, Active Directory account and domain names, SIDs and
//! GUIDs in their string forms. Each check returns a message that says what is wrong.

/// A DNS-1123 label (namespaces): lower-case alphanumerics and `-`, at most 63 characters.
pub fn check_label(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.len() > 63 {
        return Err(format!("\"{name}\" is longer than 63 characters"));
    }
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if !name.chars().all(ok_char) {
        return Err(format!(
            "\"{name}\" may contain only lower-case letters, digits and '-'"
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err(format!(
            "\"{name}\" must start and end with a letter or digit"
        ));
    }
    Ok(())
}

/// A DNS-1123 subdomain (most object names): labels joined by dots, at most 253 characters.
pub fn check_subdomain(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.len() > 253 {
        return Err(format!("\"{name}\" is longer than 253 characters"));
    }
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    if !name.chars().all(ok_char) {
        return Err(format!(
            "\"{name}\" may contain only lower-case letters, digits, '-' and '.'"
        ));
    }
    for part in name.split('.') {
        if part.is_empty() || part.starts_with('-') || part.ends_with('-') {
            return Err(format!(
                "\"{name}\" must start and end with a letter or digit, around every '.'"
            ));
        }
    }
    Ok(())
}

/// A resource name (`GMSACredentialSpec`): a DNS-1123 subdomain.
pub fn check_resource_name(what: &str, name: &str) -> Result<(), crate::Error> {
    check_subdomain(name).map_err(|m| crate::Error::invalid(format!("invalid {what} name: {m}")))
}

/// A namespace name: a DNS-1123 label.
pub fn check_namespace(name: &str) -> Result<(), crate::Error> {
    check_label(name).map_err(|m| crate::Error::invalid(format!("invalid namespace name: {m}")))
}

/// The Helm chart's rule for a resource name derived from an account: lower case, `_` to `-`.
pub fn resource_name_from_account(account: &str) -> String {
    account
        .trim_end_matches('$')
        .to_lowercase()
        .replace('_', "-")
}

/// A domain SID, `S-1-5-21-a-b-c` with three 32-bit sub-authorities after 21.
pub fn check_domain_sid(sid: &str) -> Result<(), String> {
    let parts: Vec<&str> = sid.split('-').collect();
    if parts.len() < 4 || parts[0] != "S" || parts[1] != "1" {
        return Err(format!("\"{sid}\" is not a SID (expected S-1-5-21-a-b-c)"));
    }
    if parts[2] != "5" || parts[3] != "21" {
        return Err(format!(
            "\"{sid}\" is not a domain SID (domain SIDs start with S-1-5-21-)"
        ));
    }
    let subs = &parts[4..];
    if subs.iter().any(|s| {
        s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.parse::<u32>().is_err()
    }) {
        return Err(format!(
            "\"{sid}\" is not a SID: every part after S-1-5-21 must be a 32-bit decimal number"
        ));
    }
    match subs.len() {
        3 => Ok(()),
        4 => Err(format!(
            "\"{sid}\" looks like the SID of an account (it ends with a RID); use the domain SID, {}",
            parts[..7].join("-")
        )),
        _ => Err(format!(
            "\"{sid}\" is not a domain SID: it needs exactly three numbers after S-1-5-21"
        )),
    }
}

/// Parse a GUID in its string form, with or without braces, to its 16 bytes in the order of
/// the string (not the Windows in-memory order).
pub fn parse_guid(s: &str) -> Result<[u8; 16], String> {
    let inner = s
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(s);
    let groups: Vec<&str> = inner.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    let bad = || {
        format!(
            "\"{s}\" is not a GUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in hexadecimal)"
        )
    };
    if groups.len() != 5 || groups.iter().zip(lens).any(|(g, n)| g.len() != n) {
        return Err(bad());
    }
    let hex: String = groups.concat();
    // Before slicing: a multi-byte character would put a slice inside it.
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// A gMSA name as a credential spec holds it: the sAMAccountName without `$` or domain.
pub fn check_account_name(name: &str) -> Result<(), String> {
    if name.ends_with('$') {
        return Err(format!(
            "\"{name}\" ends with '$'; write the gMSA name without it (\"{}\")",
            name.trim_end_matches('$')
        ));
    }
    if let Some((dom, acc)) = name.split_once('\\') {
        return Err(format!(
            "\"{name}\" has a domain part \"{dom}\"; write only the account name (\"{acc}\")"
        ));
    }
    if let Some((acc, dom)) = name.split_once('@') {
        return Err(format!(
            "\"{name}\" has a domain part \"{dom}\"; write only the account name (\"{acc}\")"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| "\"/[]:;|=,+*?<> .".contains(*c) || c.is_control())
    {
        return Err(format!(
            "\"{name}\" contains '{c}', which an account name may not contain"
        ));
    }
    if name.chars().count() > 15 {
        return Err(format!(
            "\"{name}\" is longer than 15 characters, the limit of a gMSA's sAMAccountName"
        ));
    }
    Ok(())
}

/// A DNS domain name such as `contoso.com`.
pub fn check_dns_domain(name: &str) -> Result<(), String> {
    let n = name.strip_suffix('.').unwrap_or(name);
    if n.is_empty() || n.len() > 253 {
        return Err(format!("\"{name}\" is not a DNS domain name"));
    }
    for label in n.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!(
                "\"{name}\" is not a DNS domain name (label \"{label}\")"
            ));
        }
    }
    Ok(())
}

/// A NetBIOS domain name: 1 to 15 characters, no dots or reserved characters.
pub fn check_netbios(name: &str) -> Result<(), String> {
    if name.chars().count() > 15 {
        return Err(format!(
            "\"{name}\" is longer than 15 characters, the limit of a NetBIOS domain name"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| "\\/:*?\"<>|. ;,+=[]".contains(*c) || c.is_control())
    {
        return Err(format!(
            "\"{name}\" contains '{c}', which a NetBIOS domain name may not contain"
        ));
    }
    Ok(())
}

/// An account name as given (`WebApp01` or `WebApp01$`), without the `$`, checked.
pub fn strip_account(name: &str) -> Result<String, crate::Error> {
    let n = name.trim().trim_end_matches('$').to_owned();
    check_account_name(&n)
        .map_err(|m| crate::Error::invalid(format!("invalid account name: {m}")))?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_names() {
        assert!(check_subdomain("webapp01").is_ok());
        assert!(check_subdomain("web.app-01").is_ok());
        for bad in [
            "",
            "WebApp01",
            "web_app",
            "-a",
            "a-",
            "a..b",
            &"a".repeat(254),
        ] {
            assert!(check_subdomain(bad).is_err(), "{bad}");
        }
        assert!(check_label("shop").is_ok());
        assert!(check_label("a.b").is_err());
        assert!(check_label(&"a".repeat(64)).is_err());
    }

    #[test]
    fn helm_chart_name_rule() {
        assert_eq!(resource_name_from_account("Web_App01$"), "web-app01");
    }

    #[test]
    fn guids() {
        let g = parse_guid("56d9b66c-d746-4f87-bd26-26760cfdca2e").unwrap();
        assert_eq!(g[0], 0x56);
        assert_eq!(g[15], 0x2e);
        assert!(parse_guid("{56D9B66C-D746-4F87-BD26-26760CFDCA2E}").is_ok());
        for bad in [
            "{GDMA0342-266A-4D1P-831J-20990E82944F}",
            "56d9b66c-d746-4f87-bd26",
            "56d9b66cd7464f87bd2626760cfdca2e",
            "+6d9b66c-d746-4f87-bd26-26760cfdca2e",
        ] {
            assert!(parse_guid(bad).is_err(), "{bad}");
        }
    }
}
