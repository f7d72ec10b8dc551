//! krew's rules for a plugin manifest (primer, section 6), as a checker the tests run on
//! the manifest scripts/package.sh renders.

use std::collections::HashSet;
use std::path::Path;

use serde_json::Value;

/// Every rule the manifest at `path` breaks; empty when it is valid.
pub fn problems(path: &Path) -> Vec<String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return vec![format!("cannot read {}: {e}", path.display())],
    };
    let doc: Value = match serde_yaml::from_str(&text) {
        Ok(v) => v,
        Err(e) => return vec![format!("not YAML: {e}")],
    };
    let stem = path
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or_default()
        .trim_end_matches(".yaml")
        .to_owned();
    check(&doc, &stem)
}

pub fn check(doc: &Value, file_stem: &str) -> Vec<String> {
    let mut p = vec![];
    if doc["apiVersion"] != "krew.googlecontainertools.github.com/v1alpha2" {
        p.push("apiVersion must be krew.googlecontainertools.github.com/v1alpha2".to_owned());
    }
    if doc["kind"] != "Plugin" {
        p.push("kind must be Plugin".into());
    }
    if doc["metadata"]["name"].as_str() != Some(file_stem) {
        p.push(format!(
            "metadata.name must equal the file name ({file_stem})"
        ));
    }
    let spec = &doc["spec"];
    let version = spec["version"].as_str().unwrap_or_default();
    if !is_v_semver(version) {
        p.push(format!(
            "spec.version \"{version}\" must be semver with a leading v"
        ));
    }
    if spec["homepage"].as_str().is_none_or(str::is_empty) {
        p.push("spec.homepage is missing".into());
    }
    match spec["shortDescription"].as_str() {
        Some(s) if !s.trim().is_empty() && !s.contains('\n') => {}
        _ => p.push("spec.shortDescription must be one non-empty line".into()),
    }
    let platforms = spec["platforms"].as_array().cloned().unwrap_or_default();
    if platforms.is_empty() {
        p.push("spec.platforms is empty".into());
    }
    let mut seen = HashSet::new();
    for (i, pl) in platforms.iter().enumerate() {
        let at = format!("spec.platforms[{i}]");
        let sel = &pl["selector"];
        let keys: Vec<&String> = sel
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        if keys != ["matchLabels"] {
            p.push(format!("{at}.selector must hold only matchLabels"));
        }
        let labels = sel["matchLabels"].as_object().cloned().unwrap_or_default();
        if labels.keys().any(|k| k != "os" && k != "arch")
            || !labels.contains_key("os")
            || !labels.contains_key("arch")
        {
            p.push(format!(
                "{at}.selector.matchLabels must be exactly os and arch"
            ));
        }
        let os = labels
            .get("os")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let arch = labels
            .get("arch")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !seen.insert((os.clone(), arch.clone())) {
            p.push(format!("{at}: a second platform for {os}/{arch}"));
        }
        if pl["uri"]
            .as_str()
            .is_none_or(|u| !u.starts_with("https://"))
        {
            p.push(format!("{at}.uri must be an https URL"));
        }
        let sha = pl["sha256"].as_str().unwrap_or_default();
        if sha.len() != 64
            || !sha
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            p.push(format!("{at}.sha256 must be 64 lower-case hex digits"));
        }
        let bin = pl["bin"].as_str().unwrap_or_default();
        if bin.is_empty() {
            p.push(format!("{at}.bin is missing"));
        } else if os == "windows" && !bin.ends_with(".exe") {
            p.push(format!("{at}.bin must end in .exe on Windows"));
        }
        match pl["files"].as_array() {
            Some(files) if !files.is_empty() => {
                for (j, f) in files.iter().enumerate() {
                    if f["from"].as_str().is_none_or(str::is_empty)
                        || f["to"].as_str().is_none_or(str::is_empty)
                    {
                        p.push(format!("{at}.files[{j}] needs from and to"));
                    }
                }
            }
            _ => p.push(format!("{at}.files must not be empty")),
        }
    }
    p
}

fn is_v_semver(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let core = rest.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|n| {
            !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && (n.len() == 1 || !n.starts_with('0'))
        })
}
