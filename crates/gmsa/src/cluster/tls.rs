//! The webhook's TLS, made in-process (no openssl, no CSR API): a CA, a serving certificate
//! signed by it for the webhook Service's DNS names, and the checks `status` and
//! `install-webhook` run on them (does a CA bundle verify the certificate for a name, when
//! does it expire). Private keys live only in memory and in the Secrets; never printed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use time::OffsetDateTime;

/// A certificate and its private key, both PEM. `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyedCert {
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for KeyedCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedCert")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// What `status` and the installer need to know about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Serial number, lower-case hex with ':' separators.
    pub serial: String,
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    pub dns_names: Vec<String>,
    pub is_ca: bool,
}

impl CertInfo {
    /// Whole days from `now` until expiry (negative once expired).
    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after - now).div_euclid(86_400)
    }
}

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The DNS names a webhook Service is reached by.
pub fn service_dns_names(service: &str, namespace: &str) -> Vec<String> {
    vec![
        service.to_owned(),
        format!("{service}.{namespace}"),
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.cluster.local"),
    ]
}

/// The name the API server checks when it calls a webhook registered by Service.
pub fn service_server_name(service: &str, namespace: &str) -> String {
    format!("{service}.{namespace}.svc")
}

fn window(validity: Duration) -> (OffsetDateTime, OffsetDateTime) {
    let now = OffsetDateTime::now_utc();
    // Back-date a little for clocks that differ between nodes.
    let not_before = now - time::Duration::minutes(5);
    let not_after = now + time::Duration::seconds(validity.as_secs() as i64);
    (not_before, not_after)
}

fn random_serial() -> rcgen::SerialNumber {
    // A fresh key's public half is unpredictable: hash-free, dependency-free randomness.
    let k = KeyPair::generate().expect("key generation works");
    let raw = k.public_key_raw();
    let mut bytes = raw[raw.len() - 16..].to_vec();
    bytes[0] &= 0x7f; // positive
    bytes[0] |= 0x01; // and not shortened away
    rcgen::SerialNumber::from_slice(&bytes)
}

/// A new self-signed CA named after the webhook.
pub fn generate_ca(common_name: &str, validity: Duration) -> Result<KeyedCert, String> {
    let key = KeyPair::generate().map_err(|e| format!("failed to generate the CA key: {e}"))?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "kubectl-gmsa");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    (params.not_before, params.not_after) = window(validity);
    params.serial_number = Some(random_serial());
    let cert = params
        .self_signed(&key)
        .map_err(|e| format!("failed to sign the CA certificate: {e}"))?;
    Ok(KeyedCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// A serving certificate for `dns_names` (the first is the subject's CN), signed by `ca`.
pub fn issue_serving(
    ca: &KeyedCert,
    dns_names: &[String],
    validity: Duration,
) -> Result<KeyedCert, String> {
    let ca_key =
        KeyPair::from_pem(&ca.key_pem).map_err(|e| format!("failed to read the CA key: {e}"))?;
    let issuer = Issuer::from_ca_cert_pem(&ca.cert_pem, &ca_key)
        .map_err(|e| format!("failed to read the CA certificate: {e}"))?;
    let key =
        KeyPair::generate().map_err(|e| format!("failed to generate the serving key: {e}"))?;
    let mut params = CertificateParams::new(dns_names.to_vec())
        .map_err(|e| format!("failed to use the DNS names {dns_names:?}: {e}"))?;
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        dns_names.first().cloned().unwrap_or_default(),
    );
    params.distinguished_name = dn;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    (params.not_before, params.not_after) = window(validity);
    params.serial_number = Some(random_serial());
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|e| format!("failed to sign the serving certificate: {e}"))?;
    Ok(KeyedCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Every certificate in a PEM bundle, in order.
pub fn certs_of(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem.as_bytes()).collect();
    let certs = certs.map_err(|e| format!("not PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err("no certificate in the PEM text".into());
    }
    Ok(certs)
}

/// Parse the first certificate of a PEM text.
pub fn inspect(pem: &str) -> Result<CertInfo, String> {
    let der = certs_of(pem)?.remove(0);
    let (_, cert) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let mut dns_names = vec![];
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            if let x509_parser::extensions::GeneralName::DNSName(d) = n {
                dns_names.push((*d).to_owned());
            }
        }
    }
    Ok(CertInfo {
        serial: cert.raw_serial_as_string(),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        dns_names,
        is_ca: cert.is_ca(),
    })
}

/// Does a certificate's private key belong to it? (A mismatched pair serves nothing.)
pub fn key_matches(pair: &KeyedCert) -> bool {
    let Ok(key) = KeyPair::from_pem(&pair.key_pem) else {
        return false;
    };
    let Ok(der) = certs_of(&pair.cert_pem).map(|mut c| c.remove(0)) else {
        return false;
    };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(&der) else {
        return false;
    };
    cert.public_key().subject_public_key.data.as_ref() == key.public_key_raw()
}

/// Verify, as a TLS client would at time `at` (Unix seconds), that some certificate of
/// `ca_bundle_pem` signs `cert_pem` and that it is valid for `server_name`. The error says why not.
pub fn verify(
    ca_bundle_pem: &str,
    cert_pem: &str,
    server_name: &str,
    at: i64,
) -> Result<(), String> {
    let cas = certs_of(ca_bundle_pem).map_err(|e| format!("the CA bundle is unusable: {e}"))?;
    let anchors: Vec<_> = cas
        .iter()
        .filter_map(|c| webpki::anchor_from_trusted_cert(c).ok())
        .collect();
    if anchors.is_empty() {
        return Err("the CA bundle holds no usable CA certificate".into());
    }
    let der = certs_of(cert_pem)
        .map_err(|e| format!("the serving certificate is unusable: {e}"))?
        .remove(0);
    let ee = webpki::EndEntityCert::try_from(&der)
        .map_err(|e| format!("the serving certificate is unusable: {e:?}"))?;
    let time = UnixTime::since_unix_epoch(Duration::from_secs(at.max(0) as u64));
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &[],
        time,
        webpki::KeyUsage::server_auth(),
        None,
        None,
    )
    .map_err(|e| match e {
        webpki::Error::CertExpired { .. } => "the serving certificate has expired".to_owned(),
        webpki::Error::CertNotValidYet { .. } => {
            "the serving certificate is not valid yet".to_owned()
        }
        webpki::Error::UnknownIssuer | webpki::Error::InvalidSignatureForPublicKey => {
            "the CA bundle did not sign the serving certificate".to_owned()
        }
        other => format!("the CA bundle does not verify the serving certificate: {other:?}"),
    })?;
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|e| format!("\"{server_name}\" is not a DNS name: {e}"))?;
    ee.verify_is_valid_for_subject_name(&name)
        .map_err(|_| format!("the serving certificate is not valid for {server_name}"))
}

/// Join PEM certificates into one bundle, dropping exact duplicates.
pub fn bundle(pems: &[&str]) -> String {
    let mut out = String::new();
    let mut seen: Vec<Vec<u8>> = vec![];
    for pem in pems {
        for der in certs_of(pem).unwrap_or_default() {
            if seen.iter().any(|s| s.as_slice() == der.as_ref()) {
                continue;
            }
            seen.push(der.as_ref().to_vec());
            out.push_str(&pem_of(der.as_ref()));
        }
    }
    out
}

fn pem_of(der: &[u8]) -> String {
    use std::fmt::Write;
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        let _ = writeln!(out, "{}", std::str::from_utf8(line).expect("ascii"));
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    #[test]
    fn serving_certificate_verifies_for_the_service_name_only() {
        let ca = generate_ca("gmsa-webhook-ca", Duration::from_secs(3650 * DAY)).unwrap();
        let names = service_dns_names("gmsa-webhook", "gmsa");
        let serving = issue_serving(&ca, &names, Duration::from_secs(365 * DAY)).unwrap();
        assert!(key_matches(&serving));
        assert!(!key_matches(&KeyedCert {
            cert_pem: serving.cert_pem.clone(),
            key_pem: ca.key_pem.clone()
        }));
        let info = inspect(&serving.cert_pem).unwrap();
        assert_eq!(info.dns_names, names);
        assert!(!info.is_ca);
        assert!(inspect(&ca.cert_pem).unwrap().is_ca);
        assert!(
            (364..=365).contains(&info.days_left(now())),
            "{}",
            info.days_left(now())
        );
        verify(
            &ca.cert_pem,
            &serving.cert_pem,
            "gmsa-webhook.gmsa.svc",
            now(),
        )
        .unwrap();
        let wrong_name =
            verify(&ca.cert_pem, &serving.cert_pem, "other.gmsa.svc", now()).unwrap_err();
        assert!(
            wrong_name.contains("not valid for other.gmsa.svc"),
            "{wrong_name}"
        );
        let later = verify(
            &ca.cert_pem,
            &serving.cert_pem,
            "gmsa-webhook.gmsa.svc",
            now() + 400 * DAY as i64,
        )
        .unwrap_err();
        assert!(later.contains("expired"), "{later}");
    }

    #[test]
    fn another_ca_does_not_verify_but_a_bundle_with_both_does() {
        let old = generate_ca("a", Duration::from_secs(30 * DAY)).unwrap();
        let new = generate_ca("a", Duration::from_secs(30 * DAY)).unwrap();
        let serving =
            issue_serving(&new, &service_dns_names("w", "n"), Duration::from_secs(DAY)).unwrap();
        let err = verify(&old.cert_pem, &serving.cert_pem, "w.n.svc", now()).unwrap_err();
        assert!(err.contains("did not sign"), "{err}");
        let both = bundle(&[&old.cert_pem, &new.cert_pem, &old.cert_pem]);
        assert_eq!(certs_of(&both).unwrap().len(), 2);
        verify(&both, &serving.cert_pem, "w.n.svc", now()).unwrap();
    }

    #[test]
    fn pem_round_trips() {
        let ca = generate_ca("a", Duration::from_secs(DAY)).unwrap();
        assert_eq!(bundle(&[&ca.cert_pem]).trim(), ca.cert_pem.trim());
        assert!(inspect("not pem").is_err());
        assert!(!format!("{ca:?}").contains("PRIVATE KEY"));
    }
}
