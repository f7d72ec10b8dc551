//! Progress on the terminal: an indicatif spinner on stderr when stderr is a terminal;
//! otherwise nothing, except plain lines for waits (results go to stdout either way).
//! `with_progress` is the one place a command shows progress while an operation runs.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use gmsa::outcome::ObjectOutcome;
use gmsa::progress::Reporter;
use indicatif::{ProgressBar, ProgressStyle};

/// The spinner (on a terminal only).
pub struct Spinner {
    bar: Option<ProgressBar>,
}

impl Spinner {
    pub fn new() -> Spinner {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Spinner { bar }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Reporter for Spinner {
    fn step(&self, message: &str) {
        if let Some(b) = &self.bar {
            b.set_message(message.to_owned());
        }
    }
    fn object(&self, _outcome: &ObjectOutcome) {}
    fn waiting(&self, message: &str, done: u64, total: u64) {
        if let Some(b) = &self.bar {
            b.set_message(format!("{message} ({done}/{total})"));
        }
    }
}

/// Progress: the spinner on a terminal, plain lines on stderr otherwise (for waits only).
pub struct Progress {
    spinner: Spinner,
    terminal: bool,
    last: Mutex<Option<(u64, u64)>>,
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            spinner: Spinner::new(),
            terminal: std::io::stderr().is_terminal(),
            last: Mutex::new(None),
        }
    }
    pub fn finish(&self) {
        self.spinner.finish();
    }
}

impl Reporter for Progress {
    fn step(&self, message: &str) {
        self.spinner.step(message);
    }
    fn object(&self, outcome: &ObjectOutcome) {
        self.spinner.object(outcome);
    }
    fn waiting(&self, message: &str, done: u64, total: u64) {
        if self.terminal {
            self.spinner.waiting(message, done, total);
            return;
        }
        let mut last = self.last.lock().expect("not poisoned");
        if *last != Some((done, total)) {
            eprintln!("{message}: {done}/{total} replicas ready");
            *last = Some((done, total));
        }
    }
}

/// Run an operation with progress showing, cleared before the caller prints the outcome.
pub async fn with_progress<T>(work: impl AsyncFnOnce(&dyn Reporter) -> T) -> T {
    let progress = Progress::new();
    let outcome = work(&progress).await;
    progress.finish();
    outcome
}
