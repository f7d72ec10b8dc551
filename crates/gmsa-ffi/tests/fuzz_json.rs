//! Property tests (proptest) of the C ABI's JSON entry: arbitrary bytes and arbitrary JSON
//! into every operation export (local, cluster, webhook and directory) never panic or crash; each call returns a known status and
//! writes JSON, an error JSON with `status`, `kind` and `message` on failure. The Rust
//! `extern "C"` functions are called directly, through the same pointers a C caller passes.
//! cargo-fuzz would need a nightly toolchain, which this project does not assume: for a
//! longer run, `PROPTEST_CASES=100000 cargo test -p gmsa-ffi --test fuzz_json`.

use std::ptr;

use gmsa_ffi::*;
use proptest::prelude::*;
use serde_json::{json, Value};

type Export = unsafe extern "C" fn(
    *const GmsaContext,
    *const u8,
    usize,
    *mut *mut u8,
    *mut usize,
) -> GmsaStatus;

/// Operations that never leave the process (no cluster): any JSON at all may go in.
const LOCAL: [(&str, Export); 2] = [("gmsa_lint", gmsa_lint), ("gmsa_convert", gmsa_convert)];

/// Operations that talk to a cluster: given only requests that cannot reach one.
const CLUSTER: [(&str, Export); 9] = [
    ("gmsa_add_credspec", gmsa_add_credspec),
    ("gmsa_remove_credspec", gmsa_remove_credspec),
    ("gmsa_bind_role", gmsa_bind_role),
    ("gmsa_unbind_role", gmsa_unbind_role),
    ("gmsa_get", gmsa_get),
    ("gmsa_check_access", gmsa_check_access),
    ("gmsa_create_secret", gmsa_create_secret),
    ("gmsa_doctor", gmsa_doctor),
    ("gmsa_attach", gmsa_attach),
];

/// The webhook operations: like `CLUSTER`, and never a client-side dry run (which renders
/// the manifests without any cluster, and so would succeed).
const WEBHOOK: [(&str, Export); 4] = [
    ("gmsa_install_webhook", gmsa_install_webhook),
    ("gmsa_uninstall_webhook", gmsa_uninstall_webhook),
    ("gmsa_status", gmsa_status),
    ("gmsa_rotate_certs", gmsa_rotate_certs),
];

/// Operations that talk to a domain controller: given only requests whose server is a
/// loopback port nobody listens on.
const DIRECTORY: [(&str, Export); 3] = [
    ("gmsa_new_credspec", gmsa_new_credspec),
    ("gmsa_check_account", gmsa_check_account),
    ("gmsa_create_account", gmsa_create_account),
];

/// Every export that may reach a server, for input that can never be a request.
fn remote() -> impl Iterator<Item = &'static (&'static str, Export)> {
    CLUSTER.iter().chain(&WEBHOOK).chain(&DIRECTORY)
}

struct Ctx(*mut GmsaContext);

impl Ctx {
    fn new() -> Ctx {
        let mut ctx = ptr::null_mut();
        // SAFETY: `ctx` is a valid place for the out-pointer.
        assert_eq!(unsafe { gmsa_context_new(&mut ctx) }, GmsaStatus::Ok);
        Ctx(ctx)
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        // SAFETY: made by gmsa_context_new, freed once, no call running.
        unsafe { gmsa_context_free(self.0) }
    }
}

/// Call one export with `request`; check the contract; return the status and the JSON.
fn call(ctx: &Ctx, name: &str, f: Export, request: &[u8]) -> (i32, Value) {
    let mut out: *mut u8 = ptr::null_mut();
    let mut out_len = 0usize;
    // SAFETY: the request slice, `out` and `out_len` are valid for the whole call.
    let status = unsafe {
        f(
            ctx.0,
            request.as_ptr(),
            request.len(),
            &mut out,
            &mut out_len,
        )
    };
    assert!(!out.is_null(), "{name} wrote no buffer");
    // SAFETY: the library wrote `out_len` bytes at `out` (a NUL follows).
    let bytes = unsafe { std::slice::from_raw_parts(out, out_len) }.to_vec();
    // SAFETY: the buffer came from this call and is released once.
    unsafe { gmsa_buffer_free(out, out_len) };
    let v: Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{name} returned non-JSON ({e}): {bytes:?}"));
    let status = status as i32;
    assert_ne!(status, GmsaStatus::Panic as i32, "{name} panicked: {v}");
    assert!(
        (0..=10).contains(&status) || (100..=104).contains(&status),
        "{name}: unknown status {status}"
    );
    if status != 0 {
        assert_eq!(v["status"], json!(status), "{name}: {v}");
        assert!(v["kind"].is_string(), "{name}: {v}");
        assert!(
            v["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{name}: {v}"
        );
    }
    (status, v)
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        ".{0,12}".prop_map(Value::String),
    ];
    let key = prop_oneof![
        Just("source".to_owned()),
        Just("credspec".to_owned()),
        Just("credspec_name".to_owned()),
        Just("CmsPlugins".to_owned()),
        Just("DomainJoinConfig".to_owned()),
        Just("ActiveDirectoryConfig".to_owned()),
        Just("dry_run".to_owned()),
        Just("service_accounts".to_owned()),
        "[a-z_]{0,10}",
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(128)
    ))]

    #[test]
    fn arbitrary_bytes_into_every_export_give_a_status_and_json(b in prop::collection::vec(any::<u8>(), 0..256)) {
        // Bytes that are JSON could be a request that reaches a cluster: only the local ops get those.
        let is_json = serde_json::from_slice::<Value>(&b).is_ok();
        let ctx = Ctx::new();
        let remote: Vec<_> = if is_json { vec![] } else { remote().collect() };
        for (name, f) in LOCAL.iter().chain(remote) {
            let (status, _) = call(&ctx, name, *f, &b);
            if !is_json {
                prop_assert!(
                    status == GmsaStatus::InvalidUtf8 as i32 || status == GmsaStatus::InvalidJson as i32,
                    "{} took non-JSON with status {}", name, status
                );
            }
        }
    }

    #[test]
    fn arbitrary_strings_give_a_status_and_json(s in ".{0,64}") {
        let is_json = serde_json::from_str::<Value>(&s).is_ok();
        let ctx = Ctx::new();
        let remote: Vec<_> = if is_json { vec![] } else { remote().collect() };
        for (name, f) in LOCAL.iter().chain(remote) {
            call(&ctx, name, *f, s.as_bytes());
        }
    }

    #[test]
    fn arbitrary_json_into_the_local_exports(v in arb_json()) {
        let ctx = Ctx::new();
        let text = serde_json::to_vec(&v).unwrap();
        for (name, f) in LOCAL {
            call(&ctx, name, f, &text);
        }
    }

    #[test]
    fn arbitrary_json_with_an_unusable_kubeconfig_into_the_cluster_exports(v in arb_json()) {
        // Whatever else the request holds, its cluster is a kubeconfig that does not exist.
        let mut req = match v {
            Value::Object(m) => Value::Object(m),
            other => json!({ "x": other }),
        };
        req["target"] = json!({ "kubeconfig": "/nonexistent/kubectl-gmsa-fuzz/kubeconfig" });
        let text = serde_json::to_vec(&req).unwrap();
        let ctx = Ctx::new();
        for (name, f) in CLUSTER {
            let (status, v) = call(&ctx, name, f, &text);
            prop_assert_ne!(status, 0, "{} succeeded without a cluster: {}", name, v);
        }
    }

    #[test]
    fn arbitrary_json_with_an_unusable_kubeconfig_into_the_webhook_exports(v in arb_json()) {
        let mut req = match v {
            Value::Object(m) => Value::Object(m),
            other => json!({ "x": other }),
        };
        req["target"] = json!({ "kubeconfig": "/nonexistent/kubectl-gmsa-fuzz/kubeconfig" });
        req["dry_run"] = json!("none");
        req["wait"] = json!(false);
        let text = serde_json::to_vec(&req).unwrap();
        let ctx = Ctx::new();
        for (name, f) in WEBHOOK {
            let (status, v) = call(&ctx, name, f, &text);
            prop_assert_ne!(status, 0, "{} succeeded without a cluster: {}", name, v);
        }
    }

    #[test]
    fn arbitrary_json_with_an_unreachable_server_into_the_directory_exports(v in arb_json(), password in ".{1,24}") {
        // Whatever else the request holds, its server is a closed loopback port; the bind
        // password never comes back, whatever the failure.
        let mut req = match v {
            Value::Object(m) => Value::Object(m),
            other => json!({ "x": other }),
        };
        let secret = format!("Fuzz-Secret-{password}");
        req["directory"] = json!({ "server": "ldaps://127.0.0.1:9", "user": "u@example.test", "password": secret, "timeout_secs": 2 });
        let text = serde_json::to_vec(&req).unwrap();
        let ctx = Ctx::new();
        for (name, f) in DIRECTORY {
            let (status, v) = call(&ctx, name, f, &text);
            prop_assert_ne!(status, 0, "{} succeeded without a directory: {}", name, v);
            prop_assert!(!v.to_string().contains("Fuzz-Secret"), "{} echoed the password: {}", name, v);
        }
    }
}
