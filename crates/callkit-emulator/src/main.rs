//! `callkit-emulator serve|mint`.

mod cli;

use callkit_core::usersig::mint_now;
use callkit_emulator::clock;
use clap::Parser;
use cli::{Cli, Command, MintArgs, ServeArgs};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Mint(args) => mint(args),
        Command::Serve(args) => serve(args),
    }
}

fn mint(args: MintArgs) -> ExitCode {
    let now = args.time.unwrap_or_else(clock::now_secs);
    println!(
        "{}",
        mint_now(&args.key, args.sdkappid, &args.identifier, args.expire, now)
    );
    ExitCode::SUCCESS
}

fn serve(args: ServeArgs) -> ExitCode {
    let threads = args.threads;
    let config = match args.into_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("callkit-emulator: {e}");
            return ExitCode::from(2);
        }
    };
    let simulated = config.simulation.as_ref().map(|s| s.per_minute);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(n) = threads.filter(|n| *n > 0) {
        builder.worker_threads(n);
    }
    let runtime = match builder.build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("callkit-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let running = match callkit_emulator::start(config).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("callkit-emulator: {e}");
                return ExitCode::FAILURE;
            }
        };
        for app in running.emulator().apps() {
            eprintln!(
                "callkit-emulator: app {} admins {}",
                app.sdkappid,
                app.admins().join(",")
            );
        }
        if let (Some(per_minute), Ok(app)) = (simulated, running.emulator().app_or_default(None)) {
            eprintln!(
                "callkit-emulator: simulating about {per_minute} calls per minute in app {}",
                app.sdkappid
            );
        }
        // Scripts wait for exactly this line.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "callkit-emulator listening on {}", running.base_url());
        let _ = out.flush();
        drop(out);
        shutdown_signal().await;
        ExitCode::SUCCESS
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
