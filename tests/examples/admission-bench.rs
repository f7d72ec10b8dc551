//! The admission benchmark: a burst of pod creations through the test API server with our
//! webhook (`gmsa-webhook`) on the real admission path, against the same burst in a
//! namespace the webhook does not see. Prints a markdown table: pod creation latency
//! (median, p99) with and without the webhook, the webhook's own decision time from its
//! logs, and its peak memory (VmHWM).
//! Usage: cargo run --release -p gmsa-tests --example admission-bench -- [PODS] [CONCURRENCY]
//! (scripts/bench.sh runs it; GMSA_TEST_CLUSTER_DIR chooses the cluster.)

use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use gmsa_tests::admin;
use gmsa_tests::admission::{add_credspec, gmsa_pod, Webhook};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use serde_json::json;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Create `n` pods (`prefix-i`) with `concurrency` in flight; each one's latency in ms.
async fn burst(ns: &str, prefix: &str, spec: &str, n: usize, concurrency: usize) -> Vec<f64> {
    let api: Api<Pod> = Api::namespaced(admin().await, ns);
    let mut times: Vec<f64> = stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            let pod = gmsa_pod(
                &format!("{prefix}-{i}"),
                "app",
                json!({ "gmsaCredentialSpecName": spec }),
            );
            async move {
                let t = Instant::now();
                api.create(&PostParams::default(), &pod)
                    .await
                    .unwrap_or_else(|e| panic!("pod {prefix}-{i} was not admitted: {e}"));
                t.elapsed().as_secs_f64() * 1000.0
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    times.sort_by(f64::total_cmp);
    times
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a number"))
        .collect();
    let n = args.first().copied().unwrap_or(500);
    let concurrency = args.get(1).copied().unwrap_or(16);

    let w = Webhook::start(&[], &[]).await;
    let ns = w.namespace(&["app"]).await;
    let spec = add_credspec(&ns, &["app"]);
    // The same pods where no webhook looks (not labelled for this install).
    let unseen = gmsa_tests::namespace(&["app"]).await;

    burst(&ns, "warm", &spec, 20, 4).await;
    let idle_kib = w.peak_rss_kib();
    let with = burst(&ns, "pod", &spec, n, concurrency).await;
    let peak_kib = w.peak_rss_kib();
    let without = burst(&unseen, "pod", &spec, n, concurrency).await;

    let mut decide: Vec<f64> = w
        .log()
        .iter()
        .filter(|l| l["msg"] == "admission" && l["namespace"] == ns.as_str())
        .filter(|l| l["name"].as_str().is_some_and(|p| p.starts_with("pod-")))
        .filter_map(|l| l["micros"].as_u64())
        .map(|us| us as f64 / 1000.0)
        .collect();
    decide.sort_by(f64::total_cmp);
    assert_eq!(
        decide.len(),
        2 * n,
        "each pod is mutated and validated once"
    );
    let admitted = w
        .log()
        .iter()
        .filter(|l| {
            l["msg"] == "admission" && l["namespace"] == ns.as_str() && l["patched"] == true
        })
        .count();
    assert!(admitted >= n, "every pod got its contents inlined");

    println!("| admission ({n} pods, {concurrency} at a time) | median ms | p99 ms |");
    println!("|---|---:|---:|");
    println!("| pod create through the API server, with gmsa-webhook (mutate + validate) | {:.1} | {:.1} |", percentile(&with, 0.5), percentile(&with, 0.99));
    println!(
        "| pod create through the API server, no webhook (baseline) | {:.1} | {:.1} |",
        percentile(&without, 0.5),
        percentile(&without, 0.99)
    );
    println!("| gmsa-webhook's own time per request (its log: read, access review + spec read, answer) | {:.2} | {:.2} |", percentile(&decide, 0.5), percentile(&decide, 0.99));
    println!();
    println!("| gmsa-webhook memory | MiB |");
    println!("|---|---:|");
    println!(
        "| peak RSS after start-up and 20 pods | {:.1} |",
        idle_kib as f64 / 1024.0
    );
    println!(
        "| peak RSS after the burst of {n} | {:.1} |",
        peak_kib as f64 / 1024.0
    );
    drop(w);
    tokio::time::sleep(Duration::from_millis(10)).await;
}
