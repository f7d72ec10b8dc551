//! `kubectl gmsa`: parses the command line, hands each command to its family in `commands/`
//! (or the wizard), and exits with a code per error class (see `gmsa::ErrorKind`).

mod args;
mod cli;
mod commands;
mod duration;
mod output;
mod progress;
mod version;
mod wizard;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use gmsa::Error;

use cli::{Cli, Command};
use commands::{attach, credspecs, directory, doctor, misc, webhook};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            output::error(&e);
            ExitCode::from(e.kind.exit_code() as u8)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Error> {
    let mut stdout = std::io::stdout().lock();
    let out: &mut dyn Write = &mut stdout;
    let c = &cli.cluster;
    match cli.command {
        Command::Lint(a) => credspecs::lint(out, a),
        Command::Convert(a) => credspecs::convert(out, a),
        Command::AddCredspec(a) => credspecs::add_credspec(out, c, a).await,
        Command::RemoveCredspec(a) => credspecs::remove_credspec(out, c, a).await,
        Command::BindRole(a) => credspecs::bind_role(out, c, a).await,
        Command::UnbindRole(a) => credspecs::unbind_role(out, c, a).await,
        Command::Get(a) => credspecs::get(out, c, a).await,
        Command::CheckAccess(a) => credspecs::check_access(out, c, a).await,
        Command::CreateSecret(a) => credspecs::create_secret(out, c, a).await,
        Command::NewCredspec(a) => directory::new_credspec(a, out).await,
        Command::CheckAccount(a) => directory::check_account(a, out).await,
        Command::CreateAccount(a) => directory::create_account(a, out).await,
        Command::InstallWebhook(a) => webhook::install(out, c, a).await,
        Command::UninstallWebhook(a) => webhook::uninstall(out, c, a).await,
        Command::RotateCerts(a) => webhook::rotate(out, c, a).await,
        Command::Status(a) => webhook::status(out, c, a).await,
        Command::Wizard(a) => wizard::run(out, c, a).await,
        Command::Doctor(a) => doctor::run(out, c, a).await,
        Command::Attach(a) => attach::run(out, c, a).await,
        Command::Version(a) => misc::version(out, a),
    }
}
