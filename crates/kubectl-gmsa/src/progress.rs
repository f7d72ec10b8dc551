//! Progress on the terminal: an indicatif spinner on stderr when stderr is a terminal,
//! nothing otherwise (results go to stdout either way).

use std::io::IsTerminal;
use std::time::Duration;

use gmsa::ops::ObjectOutcome;
use gmsa::progress::Reporter;
use indicatif::{ProgressBar, ProgressStyle};

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
