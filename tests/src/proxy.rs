//! A TCP proxy on 127.0.0.1 in front of a test server (the API server, or the DC's LDAP/LDAPS
//! port) that a test can freeze, slow down or cut. While frozen it forwards nothing, so
//! requests hang as they would on a server that stopped answering; `thaw` lets the held
//! bytes through, `restart` instead drops them with every connection that was open (a
//! server that went away and came back: a request held during the freeze never arrives).
//! A delay makes every forwarded chunk late (a slow server). TLS passes through untouched.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy's connections share.
struct State {
    /// Bumped by `restart`: connections opened before it are cut.
    epoch: tokio::sync::watch::Sender<u64>,
    /// Milliseconds each forwarded chunk waits.
    delay_ms: AtomicU64,
}

pub struct Proxy {
    pub addr: SocketAddr,
    state: Arc<State>,
    frozen_flag: Arc<AtomicBool>,
}

impl Proxy {
    /// Start forwarding 127.0.0.1:<free port> to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            epoch: tokio::sync::watch::channel(0).0,
            delay_ms: AtomicU64::new(0),
        });
        let frozen_flag = Arc::new(AtomicBool::new(false));
        let (s, f) = (state.clone(), frozen_flag.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (s, f) = (s.clone(), f.clone());
                tokio::spawn(async move {
                    let mut restarted = s.epoch.subscribe();
                    let epoch = *restarted.borrow_and_update();
                    // A new connection waits while frozen, as a SYN to a dead server would,
                    // and is dropped when the freeze ends with a restart.
                    while f.load(Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    if *s.epoch.borrow() != epoch {
                        return;
                    }
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        let (cr, cw) = client.into_split();
                        let (sr, sw) = server.into_split();
                        let up = tokio::spawn(pump(cr, sw, s.clone(), f.clone(), epoch));
                        let down = tokio::spawn(pump(sr, cw, s, f, epoch));
                        let (a, b) = (up.abort_handle(), down.abort_handle());
                        // A restart (or dropping the proxy) cuts the connection: both halves
                        // are dropped, held bytes too.
                        tokio::select! {
                            _ = restarted.changed() => {
                                a.abort();
                                b.abort();
                            }
                            _ = async { let _ = tokio::join!(up, down); } => {}
                        }
                    }
                });
            }
        });
        Proxy {
            addr,
            state,
            frozen_flag,
        }
    }

    pub fn freeze(&self) {
        self.frozen_flag.store(true, Ordering::SeqCst);
    }

    /// Let everything held during the freeze through.
    pub fn thaw(&self) {
        self.frozen_flag.store(false, Ordering::SeqCst);
    }

    /// End a freeze by cutting every connection open so far; what they held is dropped.
    pub fn restart(&self) {
        self.state.epoch.send_modify(|e| *e += 1);
        self.thaw();
    }

    /// Delay every forwarded chunk by `d` (zero: no delay).
    pub fn set_delay(&self, d: Duration) {
        self.state
            .delay_ms
            .store(d.as_millis() as u64, Ordering::SeqCst);
    }

    /// The freeze switch, for a `Reporter` that freezes the proxy at a chosen step.
    pub fn handle(&self) -> Arc<AtomicBool> {
        self.frozen_flag.clone()
    }
}

/// Forward bytes until either side closes or the connection is cut by a `restart`.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    s: Arc<State>,
    f: Arc<AtomicBool>,
    epoch: u64,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // Hold the bytes while frozen.
        while f.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if *s.epoch.borrow() != epoch {
            return;
        }
        let delay = s.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
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
