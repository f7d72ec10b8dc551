//! The committed header `include/gmsa.h` must be what cbindgen makes from the sources now:
//! one test regenerates it and compares (set `GMSA_BLESS_HEADER=1` to rewrite it instead,
//! which is what `scripts/gen-header.sh` does); another shows that the same comparison
//! reports drift when an export changes without regenerating.

use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Generate the header from a `lib.rs` (the crate's own, or a modified copy).
fn generate(lib_rs: &Path) -> String {
    let config =
        cbindgen::Config::from_file(crate_dir().join("cbindgen.toml")).expect("read cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(lib_rs)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

/// Compare a generated header with the committed one; `Err` describes the first difference.
fn compare(generated: &str, committed: &str) -> Result<(), String> {
    if generated == committed {
        return Ok(());
    }
    let line = generated
        .lines()
        .zip(committed.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| generated.lines().count().min(committed.lines().count()));
    let g = generated.lines().nth(line).unwrap_or("<end of file>");
    let c = committed.lines().nth(line).unwrap_or("<end of file>");
    Err(format!(
        "include/gmsa.h is stale: line {} is\n  {c}\nbut the sources give\n  {g}\nrun scripts/gen-header.sh and commit the header",
        line + 1
    ))
}

fn committed() -> String {
    std::fs::read_to_string(crate_dir().join("include/gmsa.h")).unwrap_or_default()
}

#[test]
fn header_is_current() {
    let generated = generate(&crate_dir().join("src/lib.rs"));
    if std::env::var_os("GMSA_BLESS_HEADER").is_some() {
        std::fs::write(crate_dir().join("include/gmsa.h"), &generated)
            .expect("write include/gmsa.h");
        return;
    }
    if let Err(e) = compare(&generated, &committed()) {
        panic!("{e}");
    }
}

#[test]
fn drift_is_detected_when_an_export_changes_without_regenerating() {
    let src = std::fs::read_to_string(crate_dir().join("src/lib.rs")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let check = |changed: &str, expect: &str| {
        assert_ne!(changed, src, "the modification must apply");
        let lib = dir.path().join("lib.rs");
        std::fs::write(&lib, changed).unwrap();
        let err = compare(&generate(&lib), &committed())
            .expect_err("a changed export must be reported as drift");
        assert!(err.contains("stale") && err.contains(expect), "{err}");
    };
    // An export's signature changes.
    check(
        &src.replacen(
            "pub extern \"C\" fn gmsa_abi_version() -> u32",
            "pub extern \"C\" fn gmsa_abi_version() -> u64",
            1,
        ),
        "uint64_t gmsa_abi_version",
    );
    // An export is added.
    check(
        &format!("{src}\n#[no_mangle]\npub extern \"C\" fn gmsa_new_operation() -> u32 {{ 0 }}\n"),
        "gmsa_new_operation",
    );
    // A status is renumbered.
    check(
        &src.replacen("RequestTooLarge = 104", "RequestTooLarge = 105", 1),
        "105",
    );
}

#[test]
fn header_compiles_as_c_and_cpp() {
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("use.c");
    std::fs::write(
        &program,
        "#include \"gmsa.h\"\n\
         int main(void) {\n\
           GmsaContext *ctx = 0;\n\
           uint8_t *out = 0; size_t out_len = 0;\n\
           GmsaProgressFn cb = 0;\n\
           GmsaStatus st = GMSA_STATUS_OK;\n\
           (void)cb; (void)st; (void)out; (void)out_len; (void)ctx;\n\
           return GMSA_ABI_VERSION == 1 ? 0 : 1;\n\
         }\n",
    )
    .unwrap();
    let include = format!("-I{}", crate_dir().join("include").display());
    for (compiler, extra) in [
        ("cc", vec!["-std=c99", "-x", "c"]),
        ("c++", vec!["-std=c++11", "-x", "c++"]),
    ] {
        let out = std::process::Command::new(compiler)
            .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only"])
            .args(&extra)
            .arg(&include)
            .arg(&program)
            .output()
            .unwrap_or_else(|e| {
                panic!("run {compiler} (a C toolchain is needed to build Rust here): {e}")
            });
        assert!(
            out.status.success(),
            "{compiler} rejects gmsa.h:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
