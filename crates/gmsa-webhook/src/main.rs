//! gmsa-webhook: the admission webhook that `kubectl gmsa install-webhook --webhook
//! kubectl-gmsa` deploys. Starts the runtime, loads the key pair, connects to the API
//! server, and serves until SIGTERM or SIGINT.

mod args;
mod log;
mod lookup;
mod review;
mod server;
mod tls;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use serde_json::json;

fn main() -> ExitCode {
    let args = args::Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads as usize)
        .max_blocking_threads(4)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            log::error(
                "failed to start the runtime",
                json!({"error": e.to_string()}),
            );
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error(&e, json!({}));
            ExitCode::from(2)
        }
    }
}

async fn run(args: args::Args) -> Result<(), String> {
    let pair = Arc::new(tls::ReloadingPair::load(
        &args.tls_cert_file,
        &args.tls_key_file,
    )?);
    let tls_config = Arc::new(pair.server_config()?);
    let target = gmsa::cluster::Target {
        kubeconfig: args.kubeconfig.clone(),
        context: None,
        request_timeout_secs: Some(args.request_timeout_seconds),
    };
    let cluster = gmsa::cluster::connect(&target)
        .await
        .map_err(|e| format!("failed to connect to the API server: {}", e.message))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("failed to listen on {}: {e}", args.listen))?;
    log::info(
        "serving",
        json!({
            "version": gmsa::VERSION,
            "listen": listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            "apiServer": cluster.server,
            "certificateSerial": pair.serial(),
            "randomHostname": args.random_hostname,
        }),
    );
    tokio::spawn(
        pair.clone()
            .watch(Duration::from_secs(args.cert_poll_seconds)),
    );
    let state = Arc::new(server::State {
        lookups: lookup::Cluster {
            client: cluster.client,
        },
        options: review::Options {
            random_hostname: args.random_hostname,
        },
        max_request_bytes: args.max_request_bytes,
        request_timeout: args.request_timeout(),
    });
    server::serve(
        listener,
        tls_config,
        state,
        stop_signal(),
        Duration::from_secs(args.shutdown_grace_seconds),
    )
    .await;
    log::info("stopped", json!({}));
    Ok(())
}

/// SIGTERM (Kubernetes stopping the pod) or SIGINT.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
