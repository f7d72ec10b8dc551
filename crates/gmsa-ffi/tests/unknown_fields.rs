//! Every operation export refuses a request with a field it does not know (a typo in a key
//! that the PowerShell module or another caller builds by hand), with
//! `GMSA_STATUS_INVALID_JSON` and the field named, at the top level and inside nested
//! objects (`target`, `source`, `directory`, `host_account`, `plugin`). Nothing is sent
//! anywhere: the request is refused while it is decoded.

use gmsa_ffi::*;

type Export = unsafe extern "C" fn(
    *const GmsaContext,
    *const u8,
    usize,
    *mut *mut u8,
    *mut usize,
) -> GmsaStatus;

/// Every operation export with a valid-looking request body of its own and the nested
/// object (if any) where a second unknown field is planted.
fn exports() -> Vec<(
    &'static str,
    Export,
    serde_json::Value,
    Option<&'static str>,
)> {
    use serde_json::json;
    let dir = json!({"server": "ldaps://127.0.0.1:1"});
    vec![
        (
            "gmsa_lint",
            gmsa_lint as Export,
            json!({"source": {"credspec": "{}"}}),
            Some("source"),
        ),
        (
            "gmsa_convert",
            gmsa_convert,
            json!({"source": {"credspec": "{}"}}),
            Some("source"),
        ),
        (
            "gmsa_add_credspec",
            gmsa_add_credspec,
            json!({"target": {}, "host_account": {"secret_name": "s"}}),
            Some("host_account"),
        ),
        (
            "gmsa_remove_credspec",
            gmsa_remove_credspec,
            json!({"target": {}, "credspec_name": "x"}),
            Some("target"),
        ),
        (
            "gmsa_bind_role",
            gmsa_bind_role,
            json!({"target": {}}),
            Some("target"),
        ),
        (
            "gmsa_unbind_role",
            gmsa_unbind_role,
            json!({"target": {}}),
            Some("target"),
        ),
        ("gmsa_get", gmsa_get, json!({"target": {}}), Some("target")),
        (
            "gmsa_check_access",
            gmsa_check_access,
            json!({"target": {}}),
            Some("target"),
        ),
        (
            "gmsa_create_secret",
            gmsa_create_secret,
            json!({"target": {}}),
            Some("target"),
        ),
        (
            "gmsa_install_webhook",
            gmsa_install_webhook,
            json!({"target": {}}),
            Some("target"),
        ),
        (
            "gmsa_uninstall_webhook",
            gmsa_uninstall_webhook,
            json!({"target": {}}),
            Some("target"),
        ),
        (
            "gmsa_status",
            gmsa_status,
            json!({"target": {}}),
            Some("target"),
        ),
        (
            "gmsa_rotate_certs",
            gmsa_rotate_certs,
            json!({"target": {}}),
            Some("target"),
        ),
        (
            "gmsa_new_credspec",
            gmsa_new_credspec,
            json!({"directory": dir, "account": "a", "plugin": {}}),
            Some("plugin"),
        ),
        (
            "gmsa_check_account",
            gmsa_check_account,
            json!({"directory": dir, "account": "a"}),
            Some("directory"),
        ),
        (
            "gmsa_create_account",
            gmsa_create_account,
            json!({"directory": dir, "account": "a"}),
            Some("directory"),
        ),
        (
            "gmsa_doctor",
            gmsa_doctor,
            json!({"target": {}}),
            Some("target"),
        ),
        (
            "gmsa_attach",
            gmsa_attach,
            json!({"target": {}, "workload": "deployment/web", "credspec_name": "c"}),
            Some("target"),
        ),
    ]
}

fn call(f: Export, ctx: *mut GmsaContext, request: &serde_json::Value) -> (GmsaStatus, String) {
    let bytes = request.to_string().into_bytes();
    let mut out = std::ptr::null_mut();
    let mut out_len = 0usize;
    // SAFETY: a live context, a readable request, writable out parameters.
    let status = unsafe { f(ctx, bytes.as_ptr(), bytes.len(), &mut out, &mut out_len) };
    // SAFETY: the library wrote `out_len` bytes at `out`; freed once below.
    let text =
        unsafe { String::from_utf8_lossy(std::slice::from_raw_parts(out, out_len)).into_owned() };
    // SAFETY: the buffer and length the call wrote.
    unsafe { gmsa_buffer_free(out, out_len) };
    (status, text)
}

#[test]
fn every_export_refuses_an_unknown_field_and_names_it() {
    let mut ctx = std::ptr::null_mut();
    // SAFETY: a writable out pointer.
    assert_eq!(unsafe { gmsa_context_new(&mut ctx) }, GmsaStatus::Ok);
    let mut checked = 0;
    for (name, f, body, nested) in exports() {
        let mut top = body.clone();
        top["dry_runn"] = serde_json::json!(true);
        let (status, text) = call(f, ctx, &top);
        assert_eq!(status, GmsaStatus::InvalidJson, "{name}: {text}");
        assert!(text.contains("unknown field `dry_runn`"), "{name}: {text}");
        if let Some(key) = nested {
            let mut inner = body.clone();
            inner[key]["kubeconfg"] = serde_json::json!("x");
            let (status, text) = call(f, ctx, &inner);
            assert_eq!(status, GmsaStatus::InvalidJson, "{name}.{key}: {text}");
            assert!(
                text.contains("unknown field `kubeconfg`"),
                "{name}.{key}: {text}"
            );
        }
        checked += 1;
    }
    // The list above is every operation of the header.
    let header =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/gmsa.h")).unwrap();
    let ops = header.matches("const uint8_t *request,").count();
    assert_eq!(
        checked, ops,
        "every operation export of gmsa.h is checked here"
    );
    // SAFETY: the context from above, no call in progress.
    unsafe { gmsa_context_free(ctx) };
}
