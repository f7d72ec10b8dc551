//! The inlined credential spec contents: written byte for byte as the upstream webhook
//! writes them (Go's `json.Marshal` of the resource's `credspec`: compact, keys sorted,
//! `<`, `>`, `&` escaped), and compared semantically (as Go compares two decoded objects).

use serde_json::Value;

/// The contents the mutation inlines for a `GMSACredentialSpec` resource, or why there are
/// none. `resource` is the whole object as the API server returns it.
pub fn inline_contents(name: &str, resource: &Value) -> Result<String, String> {
    match resource.get("credspec") {
        None | Some(Value::Null) => Err(missing_key(name)),
        Some(Value::String(s)) if s.is_empty() => Err(missing_key(name)),
        Some(v) => Ok(go_json(v)),
    }
}

fn missing_key(name: &str) -> String {
    format!("cred spec {name} does not have a credspec key")
}

/// JSON as Go's `json.Marshal` writes a decoded object (`map[string]interface{}`): no
/// spaces, object keys sorted by their bytes, HTML characters and U+2028/U+2029 escaped.
pub fn go_json(v: &Value) -> String {
    let mut out = String::new();
    write_go(v, &mut out);
    out
}

fn write_go(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go(x, out);
            }
            out.push(']');
        }
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_go(&o[k], out);
            }
            out.push('}');
        }
    }
}

/// Integers as decimals (the API server's decoder keeps them as int64); other numbers as
/// Go's `float64` encoding: shortest form, exponent only below 1e-6 or from 1e21 on.
fn write_number(n: &serde_json::Number, out: &mut String) {
    if n.is_i64() || n.is_u64() {
        out.push_str(&n.to_string());
        return;
    }
    let f = n.as_f64().unwrap_or(0.0);
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust writes `1e21` / `1e-7`; Go writes `1e+21` / `1e-07`, then trims the zero.
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => out.push_str(&format!("{m}e+{e}")),
            _ => out.push_str(&s),
        }
    } else {
        out.push_str(&format!("{f}"));
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Do two inlined contents say the same thing? Identical text is equal at once; otherwise
/// both must be JSON objects, compared as Go compares them once decoded (key order and
/// spacing ignored, numbers as float64). `Err` says which side is not a JSON object.
pub fn contents_equal(in_pod: &str, from_resource: &str) -> Result<bool, String> {
    if in_pod == from_resource {
        return Ok(true);
    }
    let a = parse_object(in_pod)
        .map_err(|e| format!("unable to parse {in_pod:?} as a JSON object: {e}"))?;
    let b = parse_object(from_resource)
        .map_err(|e| format!("unable to parse CRD {from_resource:?} as a JSON object: {e}"))?;
    Ok(go_equal(&a, &b))
}

fn parse_object(s: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(s) {
        Ok(v @ Value::Object(_)) => Ok(v),
        // Go decodes `null` into a nil map without complaint.
        Ok(Value::Null) => Ok(Value::Null),
        Ok(_) => Err("not an object".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Equality of decoded JSON as Go's `reflect.DeepEqual` sees `interface{}` values.
pub fn go_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| go_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| go_equal(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPEC: &str = include_str!("../../../../examples/credspecs/webapp01-domain-joined.json");

    #[test]
    fn inlines_as_go_json_marshal_keys_sorted_and_compact() {
        let spec: Value = serde_json::from_str(SPEC).unwrap();
        let r = json!({"apiVersion": "windows.k8s.io/v1", "credspec": spec});
        let got = inline_contents("webapp01", &r).unwrap();
        assert!(!got.contains(' ') && !got.contains('\n'), "{got}");
        assert!(
            got.starts_with("{\"ActiveDirectoryConfig\":{\"GroupManagedServiceAccounts\":[{\"Name\":\"webapp01\",\"Scope\":"),
            "{got}"
        );
        let dj = got.find("\"DomainJoinConfig\":{\"DnsName\":").unwrap();
        assert!(got.find("\"CmsPlugins\"").unwrap() < dj);
        // It says the same as the resource.
        assert!(contents_equal(&got, &go_json(&spec)).unwrap());
    }

    #[test]
    fn escapes_as_go_does() {
        let v = json!({"b": "x<y>&z\u{2028}\n\t\u{1}\u{8}\"\\é", "a": [1, -2, 1.5, 1e21, 1e-7, 0.000001], "B": null, "c": true});
        assert_eq!(
            go_json(&v),
            r#"{"B":null,"a":[1,-2,1.5,1e+21,1e-7,0.000001],"b":"x\u003cy\u003e\u0026z\u2028\n\t\u0001\b\"\\é","c":true}"#
        );
    }

    #[test]
    fn a_resource_without_contents_is_refused_with_upstreams_message() {
        for r in [
            json!({}),
            json!({"credspec": ""}),
            json!({"credspec": null}),
        ] {
            assert_eq!(
                inline_contents("x", &r).unwrap_err(),
                "cred spec x does not have a credspec key"
            );
        }
    }

    #[test]
    fn compares_semantically() {
        let canon = r#"{"A":{"x":1,"y":[1,2]},"B":"s"}"#;
        assert!(contents_equal(canon, canon).unwrap());
        assert!(contents_equal(
            "{ \"B\": \"s\", \"A\": {\"y\": [1, 2.0], \"x\": 1} }",
            canon
        )
        .unwrap());
        assert!(!contents_equal(r#"{"B":"s","A":{"x":1,"y":[2,1]}}"#, canon).unwrap());
        assert!(!contents_equal(r#"{"B":"s"}"#, canon).unwrap());
        assert!(!contents_equal(r#"{"B":"s","A":{"x":1,"y":[1,2]},"C":1}"#, canon).unwrap());
        let e = contents_equal("not json", canon).unwrap_err();
        assert!(
            e.starts_with("unable to parse \"not json\" as a JSON object"),
            "{e}"
        );
        assert!(contents_equal("[1]", canon).is_err());
    }
}
