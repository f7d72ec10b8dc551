//! Unit tests of the loader's pure parts (symbol table, status codes, layouts, error mapping)
//! and of loading the real GSSAPI library where one is installed.

use super::*;
use std::collections::HashSet;
use std::mem::{offset_of, size_of};
use std::ptr;

#[test]
fn the_symbol_table_is_unique_and_covers_what_a_client_needs() {
    let all: HashSet<&str> = SYMBOLS.iter().copied().collect();
    assert_eq!(all.len(), SYMBOLS.len(), "a function listed twice");
    assert!(SYMBOLS.iter().all(|s| s.starts_with("gss_")));
    for r in REQUIRED {
        assert!(all.contains(r), "{r} is required but never resolved");
    }
    // What a Kerberos client needs but a library may lack is optional, not required.
    assert!(!REQUIRED.contains(&"gss_localname"));
    assert!(!REQUIRED.contains(&"gss_acquire_cred_with_password"));
}

#[test]
fn status_codes_are_rfc_2744s() {
    assert_eq!(_GSS_S_BAD_MECH, 0x0001_0000);
    assert_eq!(_GSS_S_FAILURE, 0x000d_0000);
    assert_eq!(_GSS_S_UNAVAILABLE, 0x0010_0000);
    assert_eq!(_GSS_S_BAD_MECH_ATTR, 0x0013_0000);
    assert_eq!(_GSS_S_CALL_BAD_STRUCTURE, 0x0300_0000);
    assert_eq!(_GSS_S_CONTINUE_NEEDED, 1);
    assert_eq!(_GSS_S_GAP_TOKEN, 16);
    assert_eq!(_GSS_S_BAD_MIC, _GSS_S_BAD_SIG);
    // A routine error is seen as an error by the GSS_ERROR() test libgssapi uses.
    let error_mask = (_GSS_C_CALLING_ERROR_MASK << GSS_C_CALLING_ERROR_OFFSET)
        | (_GSS_C_ROUTINE_ERROR_MASK << GSS_C_ROUTINE_ERROR_OFFSET);
    assert_ne!(_GSS_S_UNAVAILABLE & error_mask, 0);
    assert_eq!(_GSS_S_CONTINUE_NEEDED & error_mask, 0);
}

#[cfg(all(target_pointer_width = "64", not(target_os = "macos")))]
#[test]
fn structs_have_the_c_layout_of_gssapi_h() {
    // Figures printed by a C program (sizeof, offsetof) built against MIT 1.20 gssapi.h on x86_64
    // Debian 12 (krb5-multidev).
    assert_eq!(size_of::<gss_OID_desc>(), 16);
    assert_eq!(offset_of!(gss_OID_desc, elements), 8);
    assert_eq!(size_of::<gss_buffer_desc>(), 16);
    assert_eq!(size_of::<gss_OID_set_desc>(), 16);
    assert_eq!(size_of::<gss_channel_bindings_struct>(), 64);
    assert_eq!(
        offset_of!(gss_channel_bindings_struct, initiator_address),
        8
    );
    assert_eq!(
        offset_of!(gss_channel_bindings_struct, acceptor_addrtype),
        24
    );
    assert_eq!(
        offset_of!(gss_channel_bindings_struct, acceptor_address),
        32
    );
    assert_eq!(
        offset_of!(gss_channel_bindings_struct, application_data),
        48
    );
    assert_eq!(size_of::<gss_iov_buffer_desc>(), 24);
    assert_eq!(offset_of!(gss_iov_buffer_desc, buffer), 8);
}

#[test]
fn without_a_library_a_call_is_unavailable_and_clears_minor() {
    let mut minor: OM_uint32 = 1234;
    // SAFETY: a valid pointer to a local.
    let major = unsafe { unavailable(&mut minor) };
    assert_eq!(major, _GSS_S_UNAVAILABLE);
    assert_eq!(minor, 0);
    // SAFETY: null is allowed.
    assert_eq!(unsafe { unavailable(ptr::null_mut()) }, _GSS_S_UNAVAILABLE);
}

#[test]
fn a_missing_library_names_what_was_tried() {
    let err = load_from(&["libgmsa-no-such-gssapi.so.9", "libgmsa-none-either.so.1"])
        .err()
        .expect("nothing to load");
    let LoadError::NotFound(tried) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(tried.len(), 2);
    let text = err.to_string();
    assert!(
        text.starts_with(
            "no GSSAPI library found (tried libgmsa-no-such-gssapi.so.9, libgmsa-none-either.so.1)"
        ),
        "{text}"
    );
    // The loader's reason for the first, without the name twice.
    assert!(text.contains("; libgmsa-no-such-gssapi.so.9: "), "{text}");
    assert_eq!(
        text.matches("libgmsa-no-such-gssapi.so.9").count(),
        2,
        "{text}"
    );
}

/// A library that opens but is no GSSAPI (the C library itself) is reported as lacking the
/// functions, not as usable.
#[cfg(target_os = "linux")]
#[test]
fn a_library_without_gssapi_functions_is_not_usable() {
    let err = load_from(&["libc.so.6"]).err().expect("libc has no GSSAPI");
    match &err {
        LoadError::MissingFunctions { library, missing } => {
            assert_eq!(*library, "libc.so.6");
            assert_eq!(missing.len(), REQUIRED.len(), "{missing:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err
        .to_string()
        .contains("lacks the GSSAPI functions gss_acquire_cred"));
}

/// Where MIT or Heimdal is installed (as on the test machines), every function resolves and a
/// real call goes through: importing a host-based service name and displaying it back.
#[test]
fn the_installed_library_resolves_every_function() {
    let Ok(g) = load() else {
        // CI machines that must have one (macOS: the GSS framework) set GMSA_REQUIRE_GSSAPI.
        assert!(
            std::env::var_os("GMSA_REQUIRE_GSSAPI").is_none(),
            "GMSA_REQUIRE_GSSAPI is set, but no GSSAPI library loads: {:?}",
            load().err()
        );
        eprintln!(
            "skipped: no GSSAPI library on this machine: {:?}",
            load().err()
        );
        return;
    };
    assert!(CANDIDATES.contains(&g.library()));
    let missing = g.entries.missing();
    if g.library() == "libgssapi_krb5.so.2" {
        assert!(missing.is_empty(), "MIT lacks {missing:?}");
    }
    let mut minor = 0;
    let text = b"ldap@dc1.gmsa.test";
    let mut buf = gss_buffer_desc {
        length: text.len(),
        value: text.as_ptr() as *mut _,
    };
    // {1 2 840 113554 1 2 1 4}: GSS_C_NT_HOSTBASED_SERVICE.
    let mut nt = *b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04";
    let mut oid = gss_OID_desc {
        length: nt.len() as u32,
        elements: nt.as_mut_ptr().cast(),
    };
    let mut name: gss_name_t = ptr::null_mut();
    // SAFETY: valid buffer, OID and out-pointer for the call's duration.
    let major = unsafe { gss_import_name(&mut minor, &mut buf, &mut oid, &mut name) };
    assert_eq!(major, GSS_S_COMPLETE);
    let mut out = gss_buffer_desc {
        length: 0,
        value: ptr::null_mut(),
    };
    // SAFETY: `name` came from gss_import_name; `out` is an empty buffer for the library to fill.
    let major = unsafe { gss_display_name(&mut minor, name, &mut out, ptr::null_mut()) };
    assert_eq!(major, GSS_S_COMPLETE);
    // SAFETY: the library filled `out` with `length` bytes at `value`.
    let shown = unsafe { std::slice::from_raw_parts(out.value as *const u8, out.length) };
    assert_eq!(shown, text);
    // SAFETY: releasing what the library allocated, once.
    unsafe {
        gss_release_buffer(&mut minor, &mut out);
        gss_release_name(&mut minor, &mut name);
    }
    assert!(name.is_null());
}

#[test]
fn functions_are_looked_up_by_their_name_then_the_platform_aliases() {
    let names = crate::functions::names_of("gss_unwrap_iov");
    assert_eq!(names[0], "gss_unwrap_iov");
    if cfg!(target_os = "macos") {
        assert_eq!(names[1..], ["__ApplePrivate_gss_unwrap_iov".to_owned()]);
    } else {
        assert_eq!(names.len(), 1);
    }
}
