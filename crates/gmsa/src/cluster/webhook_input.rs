//! The user's webhook settings checked before anything is sent: the defaults, the
//! webhook's name, the image reference and node selector entries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const DEFAULT_NAME: &str = "gmsa-webhook";
pub const DEFAULT_NAMESPACE: &str = "gmsa-webhook";
pub const DEFAULT_IMAGE: &str = "registry.k8s.io/gmsa-webhook/k8s-gmsa-webhook:v0.13.0";

/// What the webhook does when it cannot be reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailurePolicy {
    /// Reject the pod (upstream's choice: no pod escapes the checks).
    #[default]
    Fail,
    /// Let the pod through unchecked.
    Ignore,
}

impl FailurePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            FailurePolicy::Fail => "Fail",
            FailurePolicy::Ignore => "Ignore",
        }
    }
}

/// The webhook's name: it is the Service's name, so an RFC 1035 label, with room for suffixes.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 52
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "invalid webhook name \"{name}\": it names a Service, so it must start with a lower-case letter, \
             hold only lower-case letters, digits and '-', not end with '-', and be at most 52 characters"
        )))
    }
}

/// A container image reference: `[registry[:port]/]path[:tag][@sha256:<64 hex>]`.
pub fn check_image(image: &str) -> Result<()> {
    let bad = |why: &str| -> Result<()> {
        Err(
            Error::invalid(format!("invalid image reference \"{image}\": {why}")).with_hint(
                "use a reference such as registry.k8s.io/gmsa-webhook/k8s-gmsa-webhook:v0.13.0",
            ),
        )
    };
    if image.is_empty() {
        return bad("it is empty");
    }
    if image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("it contains whitespace");
    }
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    if let Some(d) = digest {
        let ok = d.strip_prefix("sha256:").is_some_and(|h| {
            h.len() == 64
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if !ok {
            return bad("the digest must be sha256: and 64 lower-case hex digits");
        }
    }
    // A tag follows the last ':' after the last '/'.
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (path, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !ok {
            return bad("the tag may hold only letters, digits, '_', '.' and '-' (at most 128)");
        }
    }
    let mut components = path.split('/').collect::<Vec<_>>();
    if components.len() > 1
        && (components[0].contains('.')
            || components[0].contains(':')
            || components[0] == "localhost")
    {
        let registry = components.remove(0);
        if registry.is_empty()
            || !registry
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c))
        {
            return bad("the registry host is not a host name");
        }
    }
    for c in components {
        let ok = !c.is_empty()
            && c.starts_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
            && c.ends_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
            && c.chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch));
        if !ok {
            return bad("each path part must be lower-case letters, digits and '.', '_', '-' (no upper case)");
        }
    }
    Ok(())
}

/// `key=value` node selector entries.
pub fn parse_node_selector(entries: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for e in entries {
        for part in e.split(',').filter(|p| !p.is_empty()) {
            let Some((k, v)) = part.split_once('=') else {
                return Err(Error::invalid(format!(
                    "invalid node selector \"{part}\": expected KEY=VALUE"
                )));
            };
            let key_ok = !k.is_empty()
                && k.len() <= 317
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
            let value_ok = v.len() <= 63
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if !key_ok || !value_ok {
                return Err(Error::invalid(format!(
                    "invalid node selector \"{part}\": not a valid label key and value"
                )));
            }
            out.insert(k.to_owned(), v.to_owned());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs() {
        for ok in ["gmsa-webhook", "w1"] {
            check_name(ok).unwrap();
        }
        for bad in ["", "Gmsa", "1abc", "a_b", "a-", &"a".repeat(53)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        for ok in [DEFAULT_IMAGE, "nginx", "localhost:5000/x/y:1.0"] {
            check_image(ok).unwrap();
        }
        check_image(&format!("r.io/a/b:v1@sha256:{}", "a".repeat(64))).unwrap();
        for bad in [
            "",
            "Registry.k8s.io/UPPER:1",
            "a b",
            "x:",
            "x:-bad",
            "r.io/a@sha256:zz",
            "a//b",
        ] {
            assert!(check_image(bad).is_err(), "{bad}");
        }
        assert!(parse_node_selector(&["novalue".into()]).is_err());
        assert_eq!(parse_node_selector(&["a=b,c=d".into()]).unwrap().len(), 2);
    }
}
