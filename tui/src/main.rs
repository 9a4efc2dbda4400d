//! The `weir` command. Everything lives in the library so tests can drive it without a terminal.

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    weir_tui::main_with_args(std::env::args_os())
}
