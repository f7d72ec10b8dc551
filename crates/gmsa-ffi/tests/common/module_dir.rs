//! A module folder laid out as installed (KubeGmsa/..., bin/<rid>/<library>) that the ABI
//! tests load, kept under the target directory instead of a temporary folder: each test runs
//! in its own process and holds the folder for the whole process (a `static`), which is never
//! dropped, so a temporary folder (a copy of a debug library of 200+ MB) was left behind by
//! every test process. Here the library is a hard link to the built one (no copy), the folder
//! has a fixed name per suite, and every file is replaced by an atomic rename, so test
//! processes running at the same time never see a half-written file.

use std::path::{Path, PathBuf};

/// The profile folder of this build: target/<profile>/deps/<test-binary> -> target/<profile>.
pub fn target_dir() -> PathBuf {
    std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf()
}

/// `target/<profile>/ffi-test-modules/<suite>`: created if missing, reused otherwise.
pub fn module_dir(target_dir: &Path, suite: &str) -> PathBuf {
    let dir = target_dir.join("ffi-test-modules").join(suite);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Puts `src` at `dest`: a hard link for the (large) library, a copy otherwise; left alone
/// when `dest` already holds the same file (the same inode, or the same bytes).
pub fn place(src: &Path, dest: &Path, link: bool) {
    use std::os::unix::fs::MetadataExt;
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    if let (Ok(a), Ok(b)) = (std::fs::metadata(src), std::fs::metadata(dest)) {
        let same = if link {
            a.dev() == b.dev() && a.ino() == b.ino()
        } else {
            std::fs::read(src).ok() == std::fs::read(dest).ok()
        };
        if same {
            return;
        }
    }
    let tmp = dest.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    if !link || std::fs::hard_link(src, &tmp).is_err() {
        std::fs::copy(src, &tmp)
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", src.display(), tmp.display()));
    }
    std::fs::rename(&tmp, dest).unwrap();
}
