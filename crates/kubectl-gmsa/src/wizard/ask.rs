//! Asking: the prompts on stderr (dialoguer), what is shown between them, and Ctrl-C
//! leaving the terminal as it was.

use std::io::IsTerminal;

use dialoguer::theme::Theme;
use dialoguer::{Confirm, Input, Password, Select};
use gmsa::credspec::{CredentialSpec, Finding};
use gmsa::{Error, ErrorKind};

use crate::output;

/// The prompts: on stderr, each one answered by its flag when given.
pub(crate) struct Ask<'t> {
    pub(crate) interactive: bool,
    pub(crate) theme: &'t dyn Theme,
}

impl Ask<'_> {
    pub(crate) fn text(
        &self,
        prompt: &str,
        default: Option<String>,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Result<String, Error> {
        let mut input = Input::<String>::with_theme(self.theme).with_prompt(prompt);
        if let Some(d) = default {
            input = input.default(d);
        }
        input
            .validate_with(|s: &String| check(s.trim()))
            .interact_text()
            .map(|s| s.trim().to_owned())
            .map_err(interrupted)
    }
    /// A question whose empty answer means "none"; `initial` is there to edit.
    pub(crate) fn optional(
        &self,
        prompt: &str,
        initial: Option<&str>,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Result<Option<String>, Error> {
        let mut input = Input::<String>::with_theme(self.theme)
            .with_prompt(prompt)
            .allow_empty(true);
        if let Some(i) = initial {
            input = input.with_initial_text(i);
        }
        let s: String = input
            .validate_with(|s: &String| {
                if s.trim().is_empty() {
                    Ok(())
                } else {
                    check(s.trim())
                }
            })
            .interact_text()
            .map_err(interrupted)?;
        let s = s.trim().to_owned();
        Ok((!s.is_empty()).then_some(s))
    }
    pub(crate) fn confirm(&self, prompt: &str, default: bool) -> Result<bool, Error> {
        Confirm::with_theme(self.theme)
            .with_prompt(prompt)
            .default(default)
            .interact()
            .map_err(interrupted)
    }
    pub(crate) fn select(
        &self,
        prompt: &str,
        items: &[String],
        default: usize,
    ) -> Result<usize, Error> {
        Select::with_theme(self.theme)
            .with_prompt(prompt)
            .items(items)
            .default(default)
            .interact()
            .map_err(interrupted)
    }
    pub(crate) fn password(&self, prompt: &str) -> Result<String, Error> {
        Password::with_theme(self.theme)
            .with_prompt(prompt)
            .interact()
            .map_err(interrupted)
    }
}

/// A prompt ended without an answer (Ctrl-C in raw mode arrives here): give the terminal
/// its cursor back and stop before anything is written.
pub(crate) fn interrupted(e: dialoguer::Error) -> Error {
    let _ = console::Term::stderr().show_cursor();
    let dialoguer::Error::IO(io) = &e;
    let why = if io.kind() == std::io::ErrorKind::Interrupted {
        "interrupted".to_owned()
    } else {
        io.to_string()
    };
    Error::new(
        ErrorKind::InvalidInput,
        format!("the wizard stopped ({why}); nothing was written"),
    )
}

pub(crate) fn say(msg: &str) {
    eprintln!("{msg}");
}

/// Ctrl-C: put the terminal back as it was (echo on after a hidden prompt, cursor shown),
/// say that nothing was written, and exit 130.
pub(crate) fn on_ctrl_c() {
    #[cfg(unix)]
    let saved = nix::sys::termios::tcgetattr(std::io::stdin()).ok();
    let _ = ctrlc::set_handler(move || {
        #[cfg(unix)]
        if let Some(t) = &saved {
            let _ = nix::sys::termios::tcsetattr(
                std::io::stdin(),
                nix::sys::termios::SetArg::TCSANOW,
                t,
            );
        }
        let _ = console::Term::stderr().show_cursor();
        eprintln!("\ninterrupted; nothing was written");
        std::process::exit(130);
    });
}

pub(crate) fn show_findings(source: &str, findings: &[Finding]) {
    if findings.is_empty() {
        say(&format!("Lint of {source}: no findings"));
    } else {
        say(&format!("Lint of {source}:"));
        output::findings(
            &mut std::io::stderr(),
            source,
            findings,
            std::io::stderr().is_terminal(),
        )
        .ok();
    }
}

pub(crate) fn show_spec(spec: &CredentialSpec) {
    let djc = &spec.domain_join_config;
    say(&format!(
        "  gMSA {} in {} ({}), domain SID {}",
        djc.machine_account_name, djc.dns_name, djc.net_bios_name, djc.sid
    ));
}
