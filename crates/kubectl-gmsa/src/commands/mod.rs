//! One file per command family, each owning its flags (`Args`), the request it builds and
//! its run: credential specs, directory, webhook, doctor, attach, and the rest (`version`).
//! The wizard is in `wizard/`.

pub mod attach;
pub mod credspecs;
pub mod directory;
pub mod doctor;
pub mod misc;
pub mod webhook;
