//! The doctor's checklist: one line per check, grouped by layer, each pass / warn / fail /
//! skipped with its evidence and, for a warning or a failure, the fix.

use serde::{Deserialize, Serialize};

/// Where a check looks, in the order the checklist prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// Active Directory: the gMSA, the domain the spec names, the DC's DNS and ports.
    Directory,
    /// The cluster: the CRD, the webhook, every credential spec and its plug-in Secret.
    Cluster,
    /// The workload: its pod template, its service account's permission, its pods and events.
    Workload,
    /// The Windows nodes and, with `--exec`, the checks run inside a container.
    Node,
}

impl Layer {
    pub const ALL: [Layer; 4] = [
        Layer::Directory,
        Layer::Cluster,
        Layer::Workload,
        Layer::Node,
    ];

    /// The heading the checklist prints.
    pub fn title(self) -> &'static str {
        match self {
            Layer::Directory => "directory",
            Layer::Cluster => "cluster",
            Layer::Workload => "workload",
            Layer::Node => "node/container",
        }
    }
}

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
    /// Not run, with the reason in the message (no directory given, pod not running, ...).
    Skipped,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
            Verdict::Skipped => "skipped",
        }
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub layer: Layer,
    /// A stable identifier, such as `webhook-ready` or `service-account-may-use`.
    pub check: String,
    /// What was checked: `credspec/webapp01`, `deployment/shop/web`, `pod/shop/web-1`, ...
    pub subject: String,
    pub status: Verdict,
    /// The evidence: what was found.
    pub message: String,
    /// For a warning or a failure: a command to run or a field to set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn new(
        layer: Layer,
        check: &str,
        subject: &str,
        status: Verdict,
        message: impl Into<String>,
    ) -> Check {
        Check {
            layer,
            check: check.to_owned(),
            subject: subject.to_owned(),
            status,
            message: message.into(),
            fix: None,
        }
    }
    pub fn pass(layer: Layer, check: &str, subject: &str, message: impl Into<String>) -> Check {
        Check::new(layer, check, subject, Verdict::Pass, message)
    }
    pub fn skipped(layer: Layer, check: &str, subject: &str, message: impl Into<String>) -> Check {
        Check::new(layer, check, subject, Verdict::Skipped, message)
    }
    pub fn warn(
        layer: Layer,
        check: &str,
        subject: &str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check::new(layer, check, subject, Verdict::Warn, message).with_fix(fix)
    }
    pub fn fail(
        layer: Layer,
        check: &str,
        subject: &str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check::new(layer, check, subject, Verdict::Fail, message).with_fix(fix)
    }
    pub fn with_fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }
}

/// How many checks ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skipped: usize,
}

impl Counts {
    pub fn of(checks: &[Check]) -> Counts {
        let mut c = Counts::default();
        for k in checks {
            match k.status {
                Verdict::Pass => c.pass += 1,
                Verdict::Warn => c.warn += 1,
                Verdict::Fail => c.fail += 1,
                Verdict::Skipped => c.skipped += 1,
            }
        }
        c
    }
}

/// Order the checklist: by layer, then in the order the checks were made.
pub fn sort(checks: &mut [Check]) {
    checks.sort_by_key(|c| c.layer);
}
