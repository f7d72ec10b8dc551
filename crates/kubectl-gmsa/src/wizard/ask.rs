//! Asking: the prompts on stderr (dialoguer), what is shown between them (wrapped to the
//! terminal at word boundaries), and Ctrl-C leaving the terminal as it was (exit 130, the
//! message on its own line).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

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
        let prompt = lead_in(prompt, 4);
        let mut input = Input::<String>::with_theme(self.theme).with_prompt(prompt);
        if let Some(d) = default {
            input = input.default(d);
        }
        prompt_opens();
        let answer = input
            .validate_with(|s: &String| check(s.trim()))
            .interact_text()
            .map(|s| s.trim().to_owned())
            .map_err(interrupted);
        prompt_closes();
        answer
    }
    /// A question whose empty answer means "none"; `initial` is there to edit.
    pub(crate) fn optional(
        &self,
        prompt: &str,
        initial: Option<&str>,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Result<Option<String>, Error> {
        let mut input = Input::<String>::with_theme(self.theme)
            .with_prompt(lead_in(prompt, 4))
            .allow_empty(true);
        if let Some(i) = initial {
            input = input.with_initial_text(i);
        }
        prompt_opens();
        let s = input
            .validate_with(|s: &String| {
                if s.trim().is_empty() {
                    Ok(())
                } else {
                    check(s.trim())
                }
            })
            .interact_text()
            .map_err(interrupted);
        prompt_closes();
        let s: String = s?;
        let s = s.trim().to_owned();
        Ok((!s.is_empty()).then_some(s))
    }
    /// A yes/no question: `y` or `n`, then Enter (Enter alone takes the default), so the
    /// Enter after a letter never falls into the next question.
    pub(crate) fn confirm(&self, prompt: &str, default: bool) -> Result<bool, Error> {
        let prompt = lead_in(prompt, 12);
        prompt_opens();
        let answer = Confirm::with_theme(self.theme)
            .with_prompt(prompt)
            .default(default)
            .wait_for_newline(true)
            .interact()
            .map_err(interrupted);
        prompt_closes();
        answer
    }
    pub(crate) fn select(
        &self,
        prompt: &str,
        items: &[String],
        default: usize,
    ) -> Result<usize, Error> {
        let prompt = lead_in(prompt, 4);
        // The list ends its last line: the cursor is at a line start while it waits.
        prompt_closes();
        let answer = Select::with_theme(self.theme)
            .with_prompt(prompt)
            .items(items)
            .default(default)
            .interact()
            .map_err(interrupted);
        prompt_closes();
        answer
    }
    pub(crate) fn password(&self, prompt: &str) -> Result<String, Error> {
        let prompt = lead_in(prompt, 4);
        prompt_opens();
        let answer = Password::with_theme(self.theme)
            .with_prompt(prompt)
            .interact()
            .map_err(interrupted);
        prompt_closes();
        answer
    }
}

/// A prompt ended without an answer. Ctrl-C in raw mode (select, confirm and text
/// prompts) arrives here as `Interrupted`: it ends the wizard as the signal does.
pub(crate) fn interrupted(e: dialoguer::Error) -> Error {
    let _ = console::Term::stderr().show_cursor();
    let dialoguer::Error::IO(io) = &e;
    if io.kind() == std::io::ErrorKind::Interrupted {
        stop_interrupted();
    }
    Error::new(
        ErrorKind::InvalidInput,
        format!("the wizard stopped ({io}); {}", nothing_written()),
    )
}

/// Whether the cursor may be in the middle of a line (a prompt is open, or a spinner
/// runs): a message printed on Ctrl-C then starts with a newline.
static MID_LINE: AtomicBool = AtomicBool::new(true);
/// Set once the plan was applied: from then on Ctrl-C leaves what was applied.
static APPLIED: AtomicBool = AtomicBool::new(false);

fn prompt_opens() {
    MID_LINE.store(true, Ordering::SeqCst);
}
fn prompt_closes() {
    MID_LINE.store(false, Ordering::SeqCst);
}
/// Something that draws on the current line (a spinner) is about to run.
pub(crate) fn busy() {
    MID_LINE.store(true, Ordering::SeqCst);
}
/// The plan was applied: a stop from now on says that what was applied stays.
pub(crate) fn plan_applied() {
    APPLIED.store(true, Ordering::SeqCst);
}

fn nothing_written() -> &'static str {
    if APPLIED.load(Ordering::SeqCst) {
        "what was applied above stays; nothing more was written"
    } else {
        "nothing was written"
    }
}

/// Stop on Ctrl-C: the cursor shown, the message on its own line, exit 130.
fn stop_interrupted() -> ! {
    let _ = console::Term::stderr().show_cursor();
    let newline = if MID_LINE.load(Ordering::SeqCst) {
        "\n"
    } else {
        ""
    };
    eprintln!("{newline}interrupted; {}", nothing_written());
    std::process::exit(130);
}

/// The terminal's width in columns, when stderr is a terminal that says.
fn width() -> Option<usize> {
    console::Term::stderr()
        .size_checked()
        .map(|(_, cols)| cols as usize)
}

/// Show a message on stderr, wrapped to the terminal at word boundaries.
pub(crate) fn say(msg: &str) {
    let text = match width() {
        Some(w) => wrap(msg, w),
        None => msg.to_owned(),
    };
    eprintln!("{text}");
    MID_LINE.store(false, Ordering::SeqCst);
}

/// A long prompt: all its wrapped lines but the last are said first, and the last (with
/// room for the theme's `reserve` characters and the answer) is the prompt. dialoguer
/// redraws only a prompt's own line, so a prompt must fit on one.
fn lead_in(prompt: &str, reserve: usize) -> String {
    let Some(w) = width() else {
        return prompt.to_owned();
    };
    let wrapped = wrap(prompt, w.saturating_sub(reserve).max(20));
    match wrapped.rsplit_once('\n') {
        Some((head, last)) => {
            say(head);
            last.trim_start().to_owned()
        }
        None => wrapped,
    }
}

/// Wrap each line of `text` to `width` columns at spaces; a wrapped line's continuation
/// keeps its indent plus two (none for a word too long for it). A word longer than the
/// width stays whole on its own line.
pub(crate) fn wrap(text: &str, width: usize) -> String {
    let mut out = vec![];
    for line in text.split('\n') {
        if line.chars().count() <= width {
            out.push(line.to_owned());
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let hanging = " ".repeat((indent + 2).min(width / 2));
        let mut current = " ".repeat(indent);
        let mut has_word = false;
        for word in line.split_whitespace() {
            let len = current.chars().count();
            if has_word && len + 1 + word.chars().count() > width {
                out.push(std::mem::replace(&mut current, hanging.clone()));
                has_word = false;
            }
            if !has_word && current.chars().count() + word.chars().count() > width {
                // Too long for the indent: the word starts the line.
                current.clear();
            }
            if has_word {
                current.push(' ');
            }
            current.push_str(word);
            has_word = true;
        }
        out.push(current);
    }
    out.join("\n")
}

/// Ctrl-C while no prompt reads keys (a hidden password prompt, pasting, a spinner): put
/// the terminal back as it was (echo on, cursor shown), say what was written, exit 130.
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
        stop_interrupted();
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

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn long_lines_wrap_at_spaces_and_keep_every_word_whole() {
        let text =
            "    failure policy: Fail rejects pods while the webhook is down (upstream's choice)";
        let wrapped = wrap(text, 30);
        for line in wrapped.lines() {
            assert!(line.chars().count() <= 30, "{line:?} in\n{wrapped}");
        }
        assert!(wrapped.starts_with("    failure policy:"), "{wrapped}");
        assert!(
            wrapped.lines().skip(1).all(|l| l.starts_with("      ")),
            "{wrapped}"
        );
        let words: Vec<&str> = wrapped.split_whitespace().collect();
        assert_eq!(words, text.split_whitespace().collect::<Vec<_>>());
    }

    #[test]
    fn short_lines_and_long_words_stay_as_they_are() {
        assert_eq!(wrap("a short line\nanother", 40), "a short line\nanother");
        let url = "ldaps://a-very-long-domain-controller-name.example.com:636";
        assert_eq!(
            wrap(&format!("see {url} now"), 20),
            format!("see\n{url}\n  now")
        );
    }
}
