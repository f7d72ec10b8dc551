//! build.rs of gmsa-ffi: gives the Linux library the soname `libgmsa_ffi.so`, so that a
//! caller that loaded it by full path (the PowerShell module under Mono, or any dlopen user)
//! finds that same copy when a later lookup names it `libgmsa_ffi.so`.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libgmsa_ffi.so");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
