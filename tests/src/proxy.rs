//! A TCP proxy on 127.0.0.1 in front of the test API server that a test can freeze: while
//! frozen it forwards nothing, so requests hang as they would on a server that stopped
//! answering. TLS passes through untouched.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct Proxy {
    pub addr: SocketAddr,
    frozen: Arc<AtomicBool>,
}

impl Proxy {
    /// Start forwarding 127.0.0.1:<free port> to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let frozen = Arc::new(AtomicBool::new(false));
        let f = frozen.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let f = f.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        let (cr, cw) = client.into_split();
                        let (sr, sw) = server.into_split();
                        tokio::spawn(pump(cr, sw, f.clone()));
                        tokio::spawn(pump(sr, cw, f));
                    }
                });
            }
        });
        Proxy { addr, frozen }
    }

    pub fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }

    pub fn thaw(&self) {
        self.frozen.store(false, Ordering::SeqCst);
    }

    pub fn handle(&self) -> Arc<AtomicBool> {
        self.frozen.clone()
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    frozen: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // Hold the bytes while frozen.
        while frozen.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// A copy of the test kubeconfig whose server is `addr` (same CA and credentials).
pub fn kubeconfig_via(addr: SocketAddr, dir: &std::path::Path) -> std::path::PathBuf {
    let cluster = crate::cluster();
    let text = std::fs::read_to_string(&cluster.kubeconfig).unwrap();
    let rewritten = text.replace(cluster.server(), &format!("https://{addr}"));
    assert_ne!(text, rewritten, "the kubeconfig names the server");
    let path = dir.join("kubeconfig");
    std::fs::write(&path, rewritten).unwrap();
    path
}
