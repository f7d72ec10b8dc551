//! `version`: the version, commit and target of this build.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use gmsa::Error;

use crate::args::ReportFormat;
use crate::output::{self, io};
use crate::version;

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: ReportFormat,
}

pub fn version(out: &mut dyn Write, a: VersionArgs) -> Result<ExitCode, Error> {
    if a.output == ReportFormat::Json {
        let v = serde_json::json!({ "version": version::SHORT, "commit": version::COMMIT, "target": version::TARGET });
        output::json(out, &v)?;
    } else {
        writeln!(out, "kubectl-gmsa {}", version::LONG).map_err(io)?;
    }
    Ok(ExitCode::SUCCESS)
}
