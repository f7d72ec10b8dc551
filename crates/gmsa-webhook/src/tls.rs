//! The serving key pair, reloaded whenever its mounted files change: a Secret update (for
//! example `kubectl gmsa rotate-certs`) reaches the running webhook without a restart. A
//! pair that fails to load or whose key does not match keeps the previous one in service.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivateKeyDer;
use serde_json::json;

use crate::log;

/// The key pair in service, swapped in place when the files change.
#[derive(Debug)]
pub struct ReloadingPair {
    cert_path: PathBuf,
    key_path: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
    /// The files' bytes last loaded (certificate, key), to notice a change.
    loaded: RwLock<(Vec<u8>, Vec<u8>)>,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Parse a PEM certificate chain and key into a pair that rustls can serve; refuses a key
/// that does not belong to the certificate. Errors never include the key.
pub fn certified_key(cert_pem: &[u8], key_pem: &[u8]) -> Result<CertifiedKey, String> {
    let text = std::str::from_utf8(cert_pem).map_err(|_| "the certificate is not PEM text")?;
    let certs = gmsa::cluster::tls::certs_of(text)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|_| "the key file holds no PEM private key".to_owned())?;
    CertifiedKey::from_der(certs, key, &provider())
        .map_err(|e| format!("the key does not fit the certificate: {e}"))
}

fn read_pair(cert: &Path, key: &Path) -> Result<(Vec<u8>, Vec<u8>), String> {
    let read =
        |p: &Path| std::fs::read(p).map_err(|e| format!("failed to read {}: {e}", p.display()));
    Ok((read(cert)?, read(key)?))
}

impl ReloadingPair {
    /// Load the pair once; fails when it cannot be served.
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<ReloadingPair, String> {
        let (c, k) = read_pair(cert_path, key_path)?;
        let ck = certified_key(&c, &k).map_err(|e| {
            format!(
                "failed to load the key pair {} / {}: {e}",
                cert_path.display(),
                key_path.display()
            )
        })?;
        Ok(ReloadingPair {
            cert_path: cert_path.to_owned(),
            key_path: key_path.to_owned(),
            current: RwLock::new(Arc::new(ck)),
            loaded: RwLock::new((c, k)),
        })
    }

    /// Look at the files once: `Ok(true)` when a new pair went into service.
    pub fn reload_if_changed(&self) -> Result<bool, String> {
        let (c, k) = read_pair(&self.cert_path, &self.key_path)?;
        {
            let loaded = self.loaded.read().expect("lock");
            if loaded.0 == c && loaded.1 == k {
                return Ok(false);
            }
        }
        let ck = certified_key(&c, &k)?;
        *self.current.write().expect("lock") = Arc::new(ck);
        *self.loaded.write().expect("lock") = (c, k);
        Ok(true)
    }

    /// The serial of the certificate in service (for logs).
    pub fn serial(&self) -> String {
        let pem = self.loaded.read().expect("lock").0.clone();
        gmsa::cluster::tls::inspect(&String::from_utf8_lossy(&pem))
            .map(|i| i.serial)
            .unwrap_or_default()
    }

    /// Watch the files every `every` until the process ends, logging each change.
    pub async fn watch(self: Arc<Self>, every: Duration) {
        let mut failing = false;
        loop {
            tokio::time::sleep(every).await;
            let me = self.clone();
            let result = tokio::task::spawn_blocking(move || me.reload_if_changed())
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
            match result {
                Ok(true) => {
                    failing = false;
                    log::info(
                        "serving a new certificate",
                        json!({"serial": self.serial(), "file": self.cert_path}),
                    );
                }
                Ok(false) => failing = false,
                Err(e) if !failing => {
                    // Logged once per failing stretch; the previous pair stays in service.
                    failing = true;
                    log::warn(
                        "kept the previous certificate: the new files do not load",
                        json!({"error": e}),
                    );
                }
                Err(_) => {}
            }
        }
    }

    /// A rustls server configuration that serves whatever pair is current (HTTP/2 and 1.1).
    pub fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, String> {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl ResolvesServerCert for ReloadingPair {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().expect("lock").clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gmsa::cluster::tls;

    fn pair(name: &str) -> tls::KeyedCert {
        let ca = tls::generate_ca("test ca", Duration::from_secs(3600)).unwrap();
        tls::issue_serving(&ca, &[name.to_owned()], Duration::from_secs(3600)).unwrap()
    }

    #[test]
    fn reloads_a_changed_pair_and_keeps_the_old_one_when_the_new_is_broken() {
        let dir = tempfile::tempdir().unwrap();
        let (c, k) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
        let a = pair("a.example");
        std::fs::write(&c, &a.cert_pem).unwrap();
        std::fs::write(&k, &a.key_pem).unwrap();
        let p = ReloadingPair::load(&c, &k).unwrap();
        let first = p.serial();
        assert_eq!(p.reload_if_changed(), Ok(false));

        // A certificate with another pair's key: refused, the old pair stays.
        let b = pair("b.example");
        std::fs::write(&c, &b.cert_pem).unwrap();
        let e = p.reload_if_changed().unwrap_err();
        assert!(e.contains("does not fit"), "{e}");
        assert!(!e.contains("PRIVATE KEY"), "{e}");
        assert_eq!(p.serial(), first);

        std::fs::write(&k, &b.key_pem).unwrap();
        assert_eq!(p.reload_if_changed(), Ok(true));
        assert_ne!(p.serial(), first);
    }

    #[test]
    fn a_missing_file_is_a_clear_error() {
        let e =
            ReloadingPair::load(Path::new("/nonexistent/tls.crt"), Path::new("/x")).unwrap_err();
        assert!(e.contains("/nonexistent/tls.crt"), "{e}");
    }
}
