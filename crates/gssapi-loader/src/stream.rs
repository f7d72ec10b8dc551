//! `gss_unwrap_iov` for a stream protocol's one IOV shape, `[STREAM, DATA]` (cross-krb5's SASL
//! security layer, which ldap3 uses to read a sealed LDAP connection), done through
//! `gss_unwrap`, which every library has. MIT's krb5 mechanism unwraps STREAM buffers itself;
//! Heimdal's (and so Apple's GSS framework, which grew from it) does not, and a sealed LDAP
//! connection then died right after the bind. Other shapes go to the library's own function.

use std::ptr;

use crate::functions::{gss_release_buffer as release, gss_unwrap as unwrap};
use crate::types::*;

/// The library's `gss_unwrap_iov`, as [`crate::gss_unwrap_iov`] calls it.
pub(crate) type UnwrapIov = unsafe extern "C" fn(
    *mut OM_uint32,
    gss_ctx_id_t,
    *mut std::os::raw::c_int,
    *mut gss_qop_t,
    *mut gss_iov_buffer_desc,
    std::os::raw::c_int,
) -> OM_uint32;

/// The type of an IOV buffer, without its flags.
fn kind(b: &gss_iov_buffer_desc) -> u32 {
    b.type_ & !GSS_IOV_BUFFER_FLAG_MASK
}

/// The indexes of the STREAM and the DATA buffer when `iov` is exactly those two.
///
/// # Safety
/// `iov` points to `count` buffers (or `count` is not 2).
unsafe fn stream_and_data(iov: *mut gss_iov_buffer_desc, count: i32) -> Option<(usize, usize)> {
    if count != 2 || iov.is_null() {
        return None;
    }
    // SAFETY: two buffers, per the caller; read unaligned (packed on macOS).
    let (a, b) = unsafe { (ptr::read_unaligned(iov), ptr::read_unaligned(iov.add(1))) };
    match (kind(&a), kind(&b)) {
        (GSS_IOV_BUFFER_TYPE_STREAM, GSS_IOV_BUFFER_TYPE_DATA) => Some((0, 1)),
        (GSS_IOV_BUFFER_TYPE_DATA, GSS_IOV_BUFFER_TYPE_STREAM) => Some((1, 0)),
        _ => None,
    }
}

/// `gss_unwrap_iov`: a `[STREAM, DATA]` IOV is unwrapped with `gss_unwrap`, the plaintext is
/// copied to the start of the STREAM buffer (it is never longer than the token), and DATA is
/// pointed at it, as a library that unwraps streams in place leaves them.
///
/// # Safety
/// As `gss_unwrap_iov` (RFC 4121's IOV extension): the buffers are valid and writable.
pub(crate) unsafe fn unwrap_iov(
    library: UnwrapIov,
    minor_status: *mut OM_uint32,
    context_handle: gss_ctx_id_t,
    conf_state: *mut std::os::raw::c_int,
    qop_state: *mut gss_qop_t,
    iov: *mut gss_iov_buffer_desc,
    iov_count: std::os::raw::c_int,
) -> OM_uint32 {
    // SAFETY: the caller's IOV.
    let Some((s, d)) = (unsafe { stream_and_data(iov, iov_count) }) else {
        // SAFETY: the caller upholds the library function's contract.
        return unsafe {
            library(
                minor_status,
                context_handle,
                conf_state,
                qop_state,
                iov,
                iov_count,
            )
        };
    };
    // SAFETY: index 0 or 1 of the caller's two buffers; unaligned on macOS.
    let stream = unsafe { ptr::read_unaligned(iov.add(s)) };
    let mut input = stream.buffer;
    let mut output = gss_buffer_desc {
        length: 0,
        value: ptr::null_mut(),
    };
    let mut release_minor = 0;
    // SAFETY: the token is the caller's STREAM buffer; `output` is empty for the library to fill.
    let major = unsafe {
        unwrap(
            minor_status,
            context_handle,
            &mut input,
            &mut output,
            conf_state,
            qop_state,
        )
    };
    if major & 0xFFFF_0000 != 0 {
        if !output.value.is_null() {
            // SAFETY: what the library allocated, released once.
            unsafe { release(&mut release_minor, &mut output) };
        }
        return major;
    }
    if output.length > stream.buffer.length {
        // SAFETY: as above.
        unsafe { release(&mut release_minor, &mut output) };
        if !minor_status.is_null() {
            // SAFETY: writable, per the caller's contract.
            unsafe { *minor_status = 0 };
        }
        return _GSS_S_FAILURE;
    }
    let plain = output.length;
    if plain > 0 {
        // SAFETY: the library's plaintext (output.length bytes) into the caller's writable
        // STREAM buffer, which is at least as long; they never overlap (the library allocated).
        unsafe {
            ptr::copy_nonoverlapping(
                output.value as *const u8,
                stream.buffer.value as *mut u8,
                plain,
            )
        };
    }
    // SAFETY: as above.
    unsafe { release(&mut release_minor, &mut output) };
    // SAFETY: the caller's DATA buffer, read and written back whole (unaligned on macOS).
    unsafe {
        let mut data = ptr::read_unaligned(iov.add(d));
        data.buffer = gss_buffer_desc {
            length: plain,
            value: stream.buffer.value,
        };
        ptr::write_unaligned(iov.add(d), data);
    }
    major
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffers(types: &[u32]) -> Vec<gss_iov_buffer_desc> {
        types
            .iter()
            .map(|&type_| gss_iov_buffer_desc {
                type_,
                buffer: gss_buffer_desc {
                    length: 0,
                    value: ptr::null_mut(),
                },
            })
            .collect()
    }

    /// Only a two-buffer STREAM and DATA IOV (either order, flags ignored) is done here.
    #[test]
    fn only_the_stream_shape_is_taken_over() {
        let shape = |types: &[u32]| {
            let mut iov = buffers(types);
            // SAFETY: `iov` holds `len` buffers.
            unsafe { stream_and_data(iov.as_mut_ptr(), iov.len() as i32) }
        };
        use crate::types::{
            GSS_IOV_BUFFER_FLAG_ALLOCATE as ALLOCATE, GSS_IOV_BUFFER_TYPE_DATA as DATA,
            GSS_IOV_BUFFER_TYPE_HEADER as HEADER, GSS_IOV_BUFFER_TYPE_STREAM as STREAM,
            GSS_IOV_BUFFER_TYPE_TRAILER as TRAILER,
        };
        assert_eq!(shape(&[STREAM, DATA]), Some((0, 1)));
        assert_eq!(shape(&[DATA, STREAM]), Some((1, 0)));
        assert_eq!(shape(&[STREAM | ALLOCATE, DATA]), Some((0, 1)));
        assert_eq!(shape(&[HEADER, DATA, TRAILER]), None);
        assert_eq!(shape(&[STREAM, DATA, DATA]), None);
        assert_eq!(shape(&[DATA, DATA]), None);
        assert_eq!(shape(&[STREAM]), None);
    }
}
