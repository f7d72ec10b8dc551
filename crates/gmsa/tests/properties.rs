//! Property tests (proptest; cargo-fuzz needs a nightly toolchain this project does not
//! assume) of the credential spec reader and lint, and the GUID parser: no input makes them
//! panic, every valid spec is clean and survives conversion, every broken field is reported
//! at its path. `PROPTEST_CASES=100000 cargo test -p gmsa --test properties` runs longer.

use gmsa::credspec::{self, Severity};
use gmsa::names;
use proptest::prelude::*;
use serde_json::{json, Value};

fn arb_json() -> impl Strategy<Value = Value> {
    let keys = prop_oneof![
        Just("CmsPlugins".to_owned()),
        Just("DomainJoinConfig".to_owned()),
        Just("ActiveDirectoryConfig".to_owned()),
        Just("Sid".to_owned()),
        Just("MachineAccountName".to_owned()),
        Just("Guid".to_owned()),
        Just("GroupManagedServiceAccounts".to_owned()),
        Just("HostAccountConfig".to_owned()),
        Just("PluginGUID".to_owned()),
        Just("PluginInput".to_owned()),
        Just("Name".to_owned()),
        Just("Scope".to_owned()),
        "[A-Za-z]{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        ".{0,20}".prop_map(Value::String),
        Just(json!("ActiveDirectory")),
        Just(json!("{CCC2A336-D7F3-4818-A213-272B7924213E}")),
        Just(json!("{E4781092-F116-4B79-B55E-28EB6A224E26}")),
        Just(json!("{859E1386-BDB4-49E8-85C7-3070B13920E1}")),
    ];
    leaf.prop_recursive(4, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

prop_compose! {
    fn valid_spec()(
        subs in prop::array::uniform3(any::<u32>()),
        guid in any::<[u8; 16]>().prop_filter("not the nil GUID", |g| g != &[0u8; 16]),
        account in "[A-Za-z][A-Za-z0-9_-]{0,14}",
        labels in prop::collection::vec("[a-z][a-z0-9]{0,10}", 1..4),
        netbios in "[A-Z][A-Z0-9]{0,14}",
    ) -> Value {
        let dns = format!("{}.com", labels.join("."));
        json!({
            "CmsPlugins": ["ActiveDirectory"],
            "DomainJoinConfig": {
                "Sid": format!("S-1-5-21-{}-{}-{}", subs[0], subs[1], subs[2]),
                "MachineAccountName": account,
                "Guid": guid_string(&guid),
                "DnsTreeName": dns,
                "DnsName": dns,
                "NetBiosName": netbios,
            },
            "ActiveDirectoryConfig": {
                "GroupManagedServiceAccounts": [
                    { "Name": account, "Scope": dns },
                    { "Name": account, "Scope": netbios }
                ]
            }
        })
    }
}

fn guid_string(b: &[u8; 16]) -> String {
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

proptest! {
    #[test]
    fn lint_never_panics_on_any_json(v in arb_json()) {
        let findings = credspec::lint(&v);
        // Whatever it says, a typed spec exists only when there is no error.
        let checked = credspec::check_value(&v);
        prop_assert_eq!(checked.spec.is_some(), !credspec::has_errors(&findings));
    }

    #[test]
    fn reading_never_panics_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(text) = credspec::model::decode_text(&bytes) {
            let _ = credspec::check_text(&text);
        }
    }

    #[test]
    fn valid_specs_are_clean_and_survive_conversion(v in valid_spec(), crlf in any::<bool>(), bom in any::<bool>()) {
        prop_assert_eq!(credspec::lint(&v), vec![]);
        let mut text = serde_json::to_string_pretty(&v).unwrap();
        if crlf { text = text.replace('\n', "\r\n"); }
        if bom { text.insert(0, '\u{feff}'); }
        let spec = credspec::check_text(&text).unwrap().spec.unwrap();
        let resource = credspec::to_resource("x", &spec, &[]);
        prop_assert_eq!(&resource["credspec"], &v);
    }

    #[test]
    fn a_broken_field_is_an_error_at_its_path(
        v in valid_spec(),
        which in 0usize..5,
        junk in r#"["/:*?<>|;,+=\[\]]{1,4}"#,
    ) {
        let (path, key) = [
            ("$.DomainJoinConfig.Sid", "Sid"),
            ("$.DomainJoinConfig.MachineAccountName", "MachineAccountName"),
            ("$.DomainJoinConfig.Guid", "Guid"),
            ("$.DomainJoinConfig.DnsName", "DnsName"),
            ("$.DomainJoinConfig.NetBiosName", "NetBiosName"),
        ][which];
        let mut broken = v.clone();
        let old = broken["DomainJoinConfig"][key].as_str().unwrap().to_owned();
        broken["DomainJoinConfig"][key] = json!(format!("{old}{junk}"));
        let findings = credspec::lint(&broken);
        prop_assert!(
            findings.iter().any(|f| f.severity == Severity::Error && f.path == path),
            "{} with {:?}: {:?}", path, junk, findings
        );
    }

    #[test]
    fn guids_round_trip(b in any::<[u8; 16]>(), upper in any::<bool>(), braces in any::<bool>()) {
        let mut s = guid_string(&b);
        if upper { s = s.to_uppercase(); }
        if braces { s = format!("{{{s}}}"); }
        prop_assert_eq!(names::parse_guid(&s).unwrap(), b);
    }

    #[test]
    fn guid_parser_never_panics(s in ".{0,40}") {
        let _ = names::parse_guid(&s);
        let _ = names::check_domain_sid(&s);
        let _ = names::check_account_name(&s);
        let _ = names::check_subdomain(&s);
    }
}
