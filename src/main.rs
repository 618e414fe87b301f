//! The `accord` command: parse the configuration, start logging, hand over to the library.

use std::io::IsTerminal;
use std::process::ExitCode;

use accord::config::{Cli, Command, ConfigError};
use clap::Parser;
use tracing_subscriber::EnvFilter;

// mimalloc rather than glibc's malloc: Accord allocates on one thread (a SQLite connection's)
// and frees on another (a request's), which glibc answers with contended arenas that keep what
// they freed. Measured in the README's benchmark ("What changed for this table"): faster pages, and
// a lower peak for a first `/insights` over 100k rooms.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match cli.settings.validate() {
        Ok(config) => config,
        Err(error) => return config_error(&error),
    };
    let filter = match EnvFilter::try_new(&cli.settings.log) {
        Ok(filter) => filter,
        Err(e) => {
            return config_error(&ConfigError {
                variable: "ACCORD_LOG",
                message: format!("not a valid log filter ({e})"),
            });
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, never in redirected logs or journald.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("accord: cannot start the async runtime ({error})");
            return ExitCode::FAILURE;
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    match runtime.block_on(accord::cli::run(command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => match error.downcast_ref::<ConfigError>() {
            Some(config) => config_error(config),
            None if let Some(exit) = error.downcast_ref::<accord::cli::Exit>() => {
                eprintln!("accord: {exit}");
                ExitCode::from(exit.code)
            }
            None => {
                eprintln!("accord: {error:#}");
                ExitCode::FAILURE
            }
        },
    }
}

/// A bad setting: one line naming it, exit code 2.
fn config_error(error: &ConfigError) -> ExitCode {
    eprintln!("accord: {error}");
    ExitCode::from(2)
}
