//! The release check on glibc (`scripts/package.sh glibc`): it reads the GLIBC_ symbol versions
//! a built binary needs, prints the highest, and fails when it is above the limit. (Release
//! builds are made against glibc 2.28 with cargo zigbuild and checked by package.sh itself;
//! this test uses the debug binary the suite already built, with limits on either side.)

use std::process::{Command, Output};

use gmsa_tests::{bin, workspace_root};

fn glibc_check(limit: &str) -> Output {
    Command::new("bash")
        .arg(workspace_root().join("scripts/package.sh"))
        .arg("glibc")
        .arg(bin())
        .env("GMSA_GLIBC_MAX", limit)
        .output()
        .expect("run scripts/package.sh glibc")
}

#[test]
fn the_glibc_check_prints_the_highest_version_and_fails_above_the_limit() {
    // Above every glibc: passes and names the version it found.
    let out = glibc_check("999.0");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    let version = said
        .split("highest GLIBC_ symbol version ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no version in: {said}"))
        .to_owned();
    assert!(version.starts_with("2."), "{said}");
    assert!(said.contains("(at most 999.0)"), "{said}");

    // Below what x86_64/aarch64 binaries need at the least (2.2.5 / 2.17): fails, saying why.
    let out = glibc_check("2.1");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "highest GLIBC_ symbol version {version}, above 2.1"
        )),
        "{said}"
    );
    assert!(
        said.contains("built against a glibc newer than 2.1"),
        "{said}"
    );
}
