//! The `warden` command, on the stock [`warden::User`] model.

use std::process::ExitCode;

fn main() -> ExitCode {
    warden_cli::run::<warden::User>()
}
