//! The GSSAPI functions `libgssapi` calls, as thin wrappers: each calls the entry point of the
//! library opened at run time ([`crate::load`]) and returns `GSS_S_UNAVAILABLE` when there is
//! none; one marked `=> via` calls `via(entry point, arguments)` instead (see `stream.rs`).
//! Signatures follow MIT's gssapi.h / gssapi_ext.h (RFC 2744).
#![allow(clippy::too_many_arguments)]

use std::os::raw::c_int;

use crate::library::{load, unavailable};
use crate::types::*;

macro_rules! gss_functions {
    // The library's function `f` called with the arguments, or `via(f, arguments)`.
    (@call $f:ident ; $($a:ident),*) => { $f($($a),*) };
    (@call $f:ident $via:path ; $($a:ident),*) => { $via($f, $($a),*) };
    ($( fn $name:ident ( $minor:ident : $minor_ty:ty $(, $arg:ident : $ty:ty)* $(,)? ) $(=> $via:path)?; )*) => {
        /// The library's entry points; `None` for one it does not export.
        #[allow(non_snake_case)]
        pub(crate) struct Entries {
            $( $name: Option<unsafe extern "C" fn($minor_ty $(, $ty)*) -> OM_uint32>, )*
        }

        impl Entries {
            /// Looks up every entry point in `lib`.
            pub(crate) fn resolve(lib: &libloading::Library) -> Entries {
                Entries {
                    // SAFETY: each symbol is the GSSAPI function of that name, whose C
                    // signature (MIT gssapi.h, RFC 2744) is the pointer type given here.
                    $( $name: unsafe { lookup(lib, stringify!($name)) }, )*
                }
            }

            /// The functions `lib` did not export.
            pub(crate) fn missing(&self) -> Vec<&'static str> {
                let mut out = Vec::new();
                $( if self.$name.is_none() { out.push(stringify!($name)); } )*
                out
            }
        }

        /// Every function this crate resolves, by its C name.
        pub const SYMBOLS: &[&str] = &[$( stringify!($name) ),*];

        $(
            #[doc = concat!("`", stringify!($name), "` from the platform's GSSAPI library; `GSS_S_UNAVAILABLE` without one.")]
            ///
            /// # Safety
            /// The pointer arguments follow the GSSAPI's rules for this function (RFC 2744).
            pub unsafe fn $name($minor: $minor_ty $(, $arg: $ty)*) -> OM_uint32 {
                match load().ok().and_then(|g| g.entries.$name) {
                    // SAFETY: the caller upholds the function's contract; the pointer is the
                    // library's own entry point of that name.
                    Some(f) => unsafe { gss_functions!(@call f $($via)? ; $minor $(, $arg)*) },
                    // SAFETY: minor_status is null or writable, per the caller's contract.
                    None => unsafe { unavailable($minor) },
                }
            }
        )*
    };
}

/// Other names a library may export a function under: Apple's GSS framework keeps the IOV
/// functions private, as `__ApplePrivate_gss_wrap_iov` and so on.
#[cfg(target_os = "macos")]
const ALIAS_PREFIXES: &[&str] = &["__ApplePrivate_"];
#[cfg(not(target_os = "macos"))]
const ALIAS_PREFIXES: &[&str] = &[];

/// The names `name` is looked up by, in order.
pub(crate) fn names_of(name: &str) -> Vec<String> {
    std::iter::once(name.to_owned())
        .chain(ALIAS_PREFIXES.iter().map(|p| format!("{p}{name}")))
        .collect()
}

/// The entry point `name` (or an alias of it) in `lib`, as a `T`.
///
/// # Safety
/// `T` is the function pointer type of that C function. The pointer stays valid as long as
/// `lib` stays open, which `load()` ensures for the life of the process.
unsafe fn lookup<T: Copy>(lib: &libloading::Library, name: &str) -> Option<T> {
    names_of(name).into_iter().find_map(|n| {
        let mut symbol = n.into_bytes();
        symbol.push(0);
        // SAFETY: the caller vouches for `T`.
        unsafe { lib.get::<T>(&symbol) }.ok().map(|s| *s)
    })
}

gss_functions! {
    fn gss_acquire_cred(minor_status: *mut OM_uint32, desired_name: gss_name_t, time_req: OM_uint32,
        desired_mechs: gss_OID_set, cred_usage: gss_cred_usage_t, output_cred_handle: *mut gss_cred_id_t,
        actual_mechs: *mut gss_OID_set, time_rec: *mut OM_uint32);
    fn gss_acquire_cred_with_password(minor_status: *mut OM_uint32, desired_name: gss_name_t,
        password: gss_buffer_t, time_req: OM_uint32, desired_mechs: gss_OID_set,
        cred_usage: gss_cred_usage_t, output_cred_handle: *mut gss_cred_id_t,
        actual_mechs: *mut gss_OID_set, time_rec: *mut OM_uint32);
    fn gss_release_cred(minor_status: *mut OM_uint32, cred_handle: *mut gss_cred_id_t);
    fn gss_inquire_cred(minor_status: *mut OM_uint32, cred_handle: gss_cred_id_t, name: *mut gss_name_t,
        lifetime: *mut OM_uint32, cred_usage: *mut gss_cred_usage_t, mechanisms: *mut gss_OID_set);
    fn gss_store_cred(minor_status: *mut OM_uint32, input_cred_handle: gss_cred_id_t,
        input_usage: gss_cred_usage_t, desired_mech: gss_OID, overwrite_cred: OM_uint32,
        default_cred: OM_uint32, elements_stored: *mut gss_OID_set, cred_usage_stored: *mut gss_cred_usage_t);
    fn gss_init_sec_context(minor_status: *mut OM_uint32, claimant_cred_handle: gss_cred_id_t,
        context_handle: *mut gss_ctx_id_t, target_name: gss_name_t, mech_type: gss_OID,
        req_flags: OM_uint32, time_req: OM_uint32, input_chan_bindings: gss_channel_bindings_t,
        input_token: gss_buffer_t, actual_mech_type: *mut gss_OID, output_token: gss_buffer_t,
        ret_flags: *mut OM_uint32, time_rec: *mut OM_uint32);
    fn gss_accept_sec_context(minor_status: *mut OM_uint32, context_handle: *mut gss_ctx_id_t,
        acceptor_cred_handle: gss_cred_id_t, input_token_buffer: gss_buffer_t,
        input_chan_bindings: gss_channel_bindings_t, src_name: *mut gss_name_t, mech_type: *mut gss_OID,
        output_token: gss_buffer_t, ret_flags: *mut OM_uint32, time_rec: *mut OM_uint32,
        delegated_cred_handle: *mut gss_cred_id_t);
    fn gss_delete_sec_context(minor_status: *mut OM_uint32, context_handle: *mut gss_ctx_id_t,
        output_token: gss_buffer_t);
    fn gss_inquire_context(minor_status: *mut OM_uint32, context_handle: gss_ctx_id_t,
        src_name: *mut gss_name_t, targ_name: *mut gss_name_t, lifetime_rec: *mut OM_uint32,
        mech_type: *mut gss_OID, ctx_flags: *mut OM_uint32, locally_initiated: *mut c_int, open: *mut c_int);
    fn gss_wrap(minor_status: *mut OM_uint32, context_handle: gss_ctx_id_t, conf_req_flag: c_int,
        qop_req: gss_qop_t, input_message_buffer: gss_buffer_t, conf_state: *mut c_int,
        output_message_buffer: gss_buffer_t);
    fn gss_unwrap(minor_status: *mut OM_uint32, context_handle: gss_ctx_id_t,
        input_message_buffer: gss_buffer_t, output_message_buffer: gss_buffer_t, conf_state: *mut c_int,
        qop_state: *mut gss_qop_t);
    fn gss_wrap_iov(minor_status: *mut OM_uint32, context_handle: gss_ctx_id_t, conf_req_flag: c_int,
        qop_req: gss_qop_t, conf_state: *mut c_int, iov: *mut gss_iov_buffer_desc, iov_count: c_int);
    fn gss_unwrap_iov(minor_status: *mut OM_uint32, context_handle: gss_ctx_id_t, conf_state: *mut c_int,
        qop_state: *mut gss_qop_t, iov: *mut gss_iov_buffer_desc, iov_count: c_int)
        => crate::stream::unwrap_iov;
    fn gss_wrap_iov_length(minor_status: *mut OM_uint32, context_handle: gss_ctx_id_t,
        conf_req_flag: c_int, qop_req: gss_qop_t, conf_state: *mut c_int, iov: *mut gss_iov_buffer_desc,
        iov_count: c_int);
    fn gss_display_status(minor_status: *mut OM_uint32, status_value: OM_uint32, status_type: c_int,
        mech_type: gss_OID, message_context: *mut OM_uint32, status_string: gss_buffer_t);
    fn gss_release_buffer(minor_status: *mut OM_uint32, buffer: gss_buffer_t);
    fn gss_import_name(minor_status: *mut OM_uint32, input_name_buffer: gss_buffer_t,
        input_name_type: gss_OID, output_name: *mut gss_name_t);
    fn gss_display_name(minor_status: *mut OM_uint32, input_name: gss_name_t,
        output_name_buffer: gss_buffer_t, output_name_type: *mut gss_OID);
    fn gss_release_name(minor_status: *mut OM_uint32, input_name: *mut gss_name_t);
    fn gss_canonicalize_name(minor_status: *mut OM_uint32, input_name: gss_name_t, mech_type: gss_OID,
        output_name: *mut gss_name_t);
    fn gss_export_name(minor_status: *mut OM_uint32, input_name: gss_name_t, exported_name: gss_buffer_t);
    fn gss_duplicate_name(minor_status: *mut OM_uint32, input_name: gss_name_t, dest_name: *mut gss_name_t);
    fn gss_localname(minor_status: *mut OM_uint32, name: gss_name_t, mech_type: gss_const_OID,
        localname: gss_buffer_t);
    fn gss_create_empty_oid_set(minor_status: *mut OM_uint32, oid_set: *mut gss_OID_set);
    fn gss_add_oid_set_member(minor_status: *mut OM_uint32, member_oid: gss_OID, oid_set: *mut gss_OID_set);
    fn gss_test_oid_set_member(minor_status: *mut OM_uint32, member: gss_OID, set: gss_OID_set,
        present: *mut c_int);
    fn gss_release_oid_set(minor_status: *mut OM_uint32, set: *mut gss_OID_set);
}

/// The functions a Kerberos client (an LDAP SASL GSSAPI bind) cannot do without: a library
/// lacking one of these is reported as unusable rather than failing mid-bind.
pub const REQUIRED: &[&str] = &[
    "gss_acquire_cred",
    "gss_release_cred",
    "gss_init_sec_context",
    "gss_delete_sec_context",
    "gss_inquire_context",
    "gss_wrap",
    "gss_unwrap",
    "gss_display_status",
    "gss_release_buffer",
    "gss_import_name",
    "gss_display_name",
    "gss_release_name",
    "gss_create_empty_oid_set",
    "gss_add_oid_set_member",
    "gss_release_oid_set",
];
