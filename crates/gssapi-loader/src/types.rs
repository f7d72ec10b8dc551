//! The GSSAPI data types and constants (RFC 2744 and MIT's gssapi.h / gssapi_ext.h), under the
//! names bindgen gives them in crates.io's `libgssapi-sys`, so that `libgssapi` compiles unchanged.
#![allow(non_camel_case_types, non_upper_case_globals)]

use std::os::raw::{c_int, c_void};

pub type OM_uint32 = u32;
pub type gss_uint32 = u32;
pub type gss_int32 = i32;
pub type gss_qop_t = OM_uint32;
pub type gss_cred_usage_t = c_int;

/// Opaque handles: the library allocates them, we only pass pointers around.
#[repr(C)]
pub struct gss_name_struct {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct gss_cred_id_struct {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct gss_ctx_id_struct {
    _opaque: [u8; 0],
}
pub type gss_name_t = *mut gss_name_struct;
pub type gss_cred_id_t = *mut gss_cred_id_struct;
pub type gss_ctx_id_t = *mut gss_ctx_id_struct;

// Apple's GSS framework packs its structs to 2 bytes (`#pragma pack(push,2)` in its gssapi.h);
// MIT and Heimdal elsewhere use the platform's natural C layout.

/// An object identifier: `length` bytes of DER contents at `elements`.
#[derive(Debug, Copy, Clone)]
#[cfg_attr(target_os = "macos", repr(C, packed(2)))]
#[cfg_attr(not(target_os = "macos"), repr(C))]
pub struct gss_OID_desc_struct {
    pub length: OM_uint32,
    pub elements: *mut c_void,
}
pub type gss_OID_desc = gss_OID_desc_struct;
pub type gss_OID = *mut gss_OID_desc;
pub type gss_const_OID = *const gss_OID_desc;

/// A set of object identifiers.
#[derive(Debug, Copy, Clone)]
#[cfg_attr(target_os = "macos", repr(C, packed(2)))]
#[cfg_attr(not(target_os = "macos"), repr(C))]
pub struct gss_OID_set_desc_struct {
    pub count: usize,
    pub elements: gss_OID,
}
pub type gss_OID_set_desc = gss_OID_set_desc_struct;
pub type gss_OID_set = *mut gss_OID_set_desc;

/// A counted buffer.
#[derive(Debug, Copy, Clone)]
#[cfg_attr(target_os = "macos", repr(C, packed(2)))]
#[cfg_attr(not(target_os = "macos"), repr(C))]
pub struct gss_buffer_desc_struct {
    pub length: usize,
    pub value: *mut c_void,
}
pub type gss_buffer_desc = gss_buffer_desc_struct;
pub type gss_buffer_t = *mut gss_buffer_desc;

/// Channel bindings (RFC 2744 section 3.11).
#[derive(Debug, Copy, Clone)]
#[cfg_attr(target_os = "macos", repr(C, packed(2)))]
#[cfg_attr(not(target_os = "macos"), repr(C))]
pub struct gss_channel_bindings_struct {
    pub initiator_addrtype: OM_uint32,
    pub initiator_address: gss_buffer_desc,
    pub acceptor_addrtype: OM_uint32,
    pub acceptor_address: gss_buffer_desc,
    pub application_data: gss_buffer_desc,
}
pub type gss_channel_bindings_t = *mut gss_channel_bindings_struct;

/// One buffer of an IOV wrap/unwrap (gssapi_ext.h).
#[derive(Debug, Copy, Clone)]
#[cfg_attr(target_os = "macos", repr(C, packed(2)))]
#[cfg_attr(not(target_os = "macos"), repr(C))]
pub struct gss_iov_buffer_desc_struct {
    pub type_: OM_uint32,
    pub buffer: gss_buffer_desc,
}
pub type gss_iov_buffer_desc = gss_iov_buffer_desc_struct;
pub type gss_iov_buffer_t = *mut gss_iov_buffer_desc;

// Context flags.
pub const GSS_C_DELEG_FLAG: u32 = 1;
pub const GSS_C_MUTUAL_FLAG: u32 = 2;
pub const GSS_C_REPLAY_FLAG: u32 = 4;
pub const GSS_C_SEQUENCE_FLAG: u32 = 8;
pub const GSS_C_CONF_FLAG: u32 = 16;
pub const GSS_C_INTEG_FLAG: u32 = 32;
pub const GSS_C_ANON_FLAG: u32 = 64;
pub const GSS_C_PROT_READY_FLAG: u32 = 128;
pub const GSS_C_TRANS_FLAG: u32 = 256;
pub const GSS_C_DELEG_POLICY_FLAG: u32 = 32768;

// Credential usage.
pub const GSS_C_BOTH: u32 = 0;
pub const GSS_C_INITIATE: u32 = 1;
pub const GSS_C_ACCEPT: u32 = 2;

// gss_display_status status types.
pub const GSS_C_GSS_CODE: u32 = 1;
pub const GSS_C_MECH_CODE: u32 = 2;

pub const GSS_C_QOP_DEFAULT: u32 = 0;
pub const _GSS_C_INDEFINITE: OM_uint32 = 0xffff_ffff;

// Status code layout.
pub const GSS_S_COMPLETE: u32 = 0;
pub const GSS_C_CALLING_ERROR_OFFSET: u32 = 24;
pub const GSS_C_ROUTINE_ERROR_OFFSET: u32 = 16;
pub const GSS_C_SUPPLEMENTARY_OFFSET: u32 = 0;
pub const _GSS_C_CALLING_ERROR_MASK: OM_uint32 = 0o377;
pub const _GSS_C_ROUTINE_ERROR_MASK: OM_uint32 = 0o377;
pub const _GSS_C_SUPPLEMENTARY_MASK: OM_uint32 = 0o177777;

const fn calling(n: OM_uint32) -> OM_uint32 {
    n << GSS_C_CALLING_ERROR_OFFSET
}
const fn routine(n: OM_uint32) -> OM_uint32 {
    n << GSS_C_ROUTINE_ERROR_OFFSET
}

// Calling errors.
pub const _GSS_S_CALL_INACCESSIBLE_READ: OM_uint32 = calling(1);
pub const _GSS_S_CALL_INACCESSIBLE_WRITE: OM_uint32 = calling(2);
pub const _GSS_S_CALL_BAD_STRUCTURE: OM_uint32 = calling(3);

// Routine errors.
pub const _GSS_S_BAD_MECH: OM_uint32 = routine(1);
pub const _GSS_S_BAD_NAME: OM_uint32 = routine(2);
pub const _GSS_S_BAD_NAMETYPE: OM_uint32 = routine(3);
pub const _GSS_S_BAD_BINDINGS: OM_uint32 = routine(4);
pub const _GSS_S_BAD_STATUS: OM_uint32 = routine(5);
pub const _GSS_S_BAD_SIG: OM_uint32 = routine(6);
pub const _GSS_S_BAD_MIC: OM_uint32 = _GSS_S_BAD_SIG;
pub const _GSS_S_NO_CRED: OM_uint32 = routine(7);
pub const _GSS_S_NO_CONTEXT: OM_uint32 = routine(8);
pub const _GSS_S_DEFECTIVE_TOKEN: OM_uint32 = routine(9);
pub const _GSS_S_DEFECTIVE_CREDENTIAL: OM_uint32 = routine(10);
pub const _GSS_S_CREDENTIALS_EXPIRED: OM_uint32 = routine(11);
pub const _GSS_S_CONTEXT_EXPIRED: OM_uint32 = routine(12);
pub const _GSS_S_FAILURE: OM_uint32 = routine(13);
pub const _GSS_S_BAD_QOP: OM_uint32 = routine(14);
pub const _GSS_S_UNAUTHORIZED: OM_uint32 = routine(15);
pub const _GSS_S_UNAVAILABLE: OM_uint32 = routine(16);
pub const _GSS_S_DUPLICATE_ELEMENT: OM_uint32 = routine(17);
pub const _GSS_S_NAME_NOT_MN: OM_uint32 = routine(18);
pub const _GSS_S_BAD_MECH_ATTR: OM_uint32 = routine(19);

// Supplementary bits.
pub const _GSS_S_CONTINUE_NEEDED: OM_uint32 = 1 << GSS_C_SUPPLEMENTARY_OFFSET;
pub const _GSS_S_DUPLICATE_TOKEN: OM_uint32 = 1 << (GSS_C_SUPPLEMENTARY_OFFSET + 1);
pub const _GSS_S_OLD_TOKEN: OM_uint32 = 1 << (GSS_C_SUPPLEMENTARY_OFFSET + 2);
pub const _GSS_S_UNSEQ_TOKEN: OM_uint32 = 1 << (GSS_C_SUPPLEMENTARY_OFFSET + 3);
pub const _GSS_S_GAP_TOKEN: OM_uint32 = 1 << (GSS_C_SUPPLEMENTARY_OFFSET + 4);

// IOV buffer types and flags (gssapi_ext.h).
pub const GSS_IOV_BUFFER_TYPE_EMPTY: u32 = 0;
pub const GSS_IOV_BUFFER_TYPE_DATA: u32 = 1;
pub const GSS_IOV_BUFFER_TYPE_HEADER: u32 = 2;
pub const GSS_IOV_BUFFER_TYPE_MECH_PARAMS: u32 = 3;
pub const GSS_IOV_BUFFER_TYPE_TRAILER: u32 = 7;
pub const GSS_IOV_BUFFER_TYPE_PADDING: u32 = 9;
pub const GSS_IOV_BUFFER_TYPE_STREAM: u32 = 10;
pub const GSS_IOV_BUFFER_TYPE_SIGN_ONLY: u32 = 11;
pub const GSS_IOV_BUFFER_TYPE_MIC_TOKEN: u32 = 12;
pub const GSS_IOV_BUFFER_FLAG_MASK: u32 = 0xFFFF_0000;
pub const GSS_IOV_BUFFER_FLAG_ALLOCATE: u32 = 0x0001_0000;
pub const GSS_IOV_BUFFER_FLAG_ALLOCATED: u32 = 0x0002_0000;
