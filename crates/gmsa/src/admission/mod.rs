//! Admission of pods that use gMSA, as pure logic shared by the `gmsa-webhook` binary and
//! `doctor`: where a pod sets gMSA fields (`settings`), the inlined contents as upstream
//! writes and compares them (`contents`), and the rules with their messages (`rules`).

pub mod contents;
pub mod rules;
pub mod settings;

pub use contents::{contents_equal, go_json, inline_contents};
pub use rules::{
    inline_patches, not_found, patch_json, review_new, review_update, unreadable, Answer, Check,
    Denial, PatchOp,
};
pub use settings::{ephemeral_settings, names, settings_of, Place, Setting};
