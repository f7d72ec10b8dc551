//! The webhook's TLS material: keep the CA and serving certificate while they are sound and
//! far from expiry, otherwise make new ones (install and rotate-certs share this).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cluster::tls::{self, KeyedCert};
use crate::cluster::webhook::{Names, TlsSource};
use crate::error::{Error, ErrorKind, Result};

/// A certificate is renewed when it expires within this many days.
pub const RENEW_WITHIN_DAYS: i64 = 30;
pub(crate) const CA_VALIDITY: Duration = Duration::from_secs(10 * 365 * 86_400);
pub(crate) const DAY: u64 = 86_400;

pub(crate) fn secret_text(secret: Option<&Value>, key: &str) -> Option<String> {
    let v = secret?.get("data")?.get(key)?.clone();
    let bytes: k8s_openapi::ByteString = serde_json::from_value(v).ok()?;
    String::from_utf8(bytes.0).ok()
}

/// A certificate's facts, for outcomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateSummary {
    pub serial: String,
    /// RFC 3339.
    pub not_after: String,
    pub days_left: i64,
    /// Issued by this run (false: the existing one was kept).
    pub issued: bool,
    /// A new CA was made by this run.
    pub new_ca: bool,
}

pub(crate) fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// What to renew regardless of expiry.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Renew {
    pub serving: bool,
    pub ca: bool,
}

/// Decide the TLS material: keep the CA and the serving certificate in the Secrets when they
/// are sound and far from expiry, otherwise make new ones. A new CA joins the old one in the
/// CA bundle so that pods still serving the old certificate stay trusted during the roll.
pub(crate) fn plan_tls(
    names: &Names,
    ca_secret: Option<&Value>,
    tls_secret: Option<&Value>,
    validity: Duration,
    renew: Renew,
) -> Result<(TlsSource, CertificateSummary)> {
    let now = tls::now();
    let internal = |m: String| Error::new(ErrorKind::Internal, m);
    let old_ca = match (
        secret_text(ca_secret, "tls.crt"),
        secret_text(ca_secret, "tls.key"),
    ) {
        (Some(cert_pem), Some(key_pem)) => Some(KeyedCert { cert_pem, key_pem }),
        _ => None,
    };
    let old_ca_info = old_ca.as_ref().and_then(|c| tls::inspect(&c.cert_pem).ok());
    let ca_usable = match (&old_ca, &old_ca_info) {
        (Some(ca), Some(info)) => {
            info.is_ca && tls::key_matches(ca) && info.days_left(now) > RENEW_WITHIN_DAYS
        }
        _ => false,
    };
    let (ca, ca_bundle, new_ca) = if ca_usable && !renew.ca {
        let ca = old_ca.expect("usable");
        let bundle = secret_text(ca_secret, "ca-bundle.crt")
            .filter(|b| {
                tls::certs_of(b).is_ok() && tls::bundle(&[b, &ca.cert_pem]) == tls::bundle(&[b])
            })
            .unwrap_or_else(|| tls::bundle(&[&ca.cert_pem]));
        (ca, bundle, false)
    } else {
        let ca = tls::generate_ca(&format!("{}-ca", names.name), CA_VALIDITY).map_err(internal)?;
        // Keep trusting the old CA (if still valid) until the pods serve the new certificate.
        let keep_old = old_ca_info.as_ref().is_some_and(|i| i.not_after > now);
        let bundle = match (&old_ca, keep_old) {
            (Some(old), true) => tls::bundle(&[&ca.cert_pem, &old.cert_pem]),
            _ => tls::bundle(&[&ca.cert_pem]),
        };
        (ca, bundle, true)
    };
    let server_name = names.server_name();
    let old_serving = match (
        secret_text(tls_secret, "tls.crt"),
        secret_text(tls_secret, "tls.key"),
    ) {
        (Some(cert_pem), Some(key_pem)) => Some(KeyedCert { cert_pem, key_pem }),
        _ => None,
    };
    let keep_serving = !renew.serving
        && !new_ca
        && old_serving.as_ref().is_some_and(|s| {
            tls::key_matches(s)
                && tls::verify(&ca.cert_pem, &s.cert_pem, &server_name, now).is_ok()
                && tls::inspect(&s.cert_pem).is_ok_and(|i| i.days_left(now) > RENEW_WITHIN_DAYS)
        });
    let (serving, issued) = if keep_serving {
        (old_serving.expect("kept"), false)
    } else {
        let dns = tls::service_dns_names(&names.name, &names.namespace);
        (
            tls::issue_serving(&ca, &dns, validity).map_err(internal)?,
            true,
        )
    };
    let info = tls::inspect(&serving.cert_pem).map_err(internal)?;
    let summary = CertificateSummary {
        serial: info.serial.clone(),
        not_after: rfc3339(info.not_after),
        days_left: info.days_left(now),
        issued,
        new_ca,
    };
    Ok((
        TlsSource::Generated {
            ca,
            ca_bundle,
            serving,
        },
        summary,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret_with(pairs: &[(&str, &str)]) -> Value {
        let data: serde_json::Map<String, Value> = pairs
            .iter()
            .map(|(k, v)| {
                (
                    (*k).to_owned(),
                    serde_json::to_value(k8s_openapi::ByteString(v.as_bytes().to_vec())).unwrap(),
                )
            })
            .collect();
        json!({ "data": data })
    }

    #[test]
    fn tls_is_kept_until_close_to_expiry() {
        let names = Names::new("w", "n");
        let year = Duration::from_secs(365 * DAY);
        let (first, s1) = plan_tls(&names, None, None, year, Renew::default()).unwrap();
        assert!(s1.issued && s1.new_ca);
        let TlsSource::Generated {
            ca,
            ca_bundle,
            serving,
        } = first
        else {
            unreachable!()
        };
        let ca_s = secret_with(&[
            ("tls.crt", &ca.cert_pem),
            ("tls.key", &ca.key_pem),
            ("ca-bundle.crt", &ca_bundle),
        ]);
        let tls_s = secret_with(&[
            ("tls.crt", &serving.cert_pem),
            ("tls.key", &serving.key_pem),
        ]);
        let (again, s2) =
            plan_tls(&names, Some(&ca_s), Some(&tls_s), year, Renew::default()).unwrap();
        assert!(!s2.issued && !s2.new_ca);
        assert_eq!(
            again,
            TlsSource::Generated {
                ca: ca.clone(),
                ca_bundle: ca_bundle.clone(),
                serving: serving.clone()
            }
        );

        // A serving certificate 20 days from expiry is renewed by the same CA.
        let short = tls::issue_serving(
            &ca,
            &tls::service_dns_names("w", "n"),
            Duration::from_secs(20 * DAY),
        )
        .unwrap();
        let short_s = secret_with(&[("tls.crt", &short.cert_pem), ("tls.key", &short.key_pem)]);
        let (_, s3) =
            plan_tls(&names, Some(&ca_s), Some(&short_s), year, Renew::default()).unwrap();
        assert!(s3.issued && !s3.new_ca);

        // A new CA keeps the old one in the bundle; the new certificate verifies with it.
        let (rotated, s4) = plan_tls(
            &names,
            Some(&ca_s),
            Some(&tls_s),
            year,
            Renew {
                serving: true,
                ca: true,
            },
        )
        .unwrap();
        assert!(s4.issued && s4.new_ca);
        let TlsSource::Generated {
            ca: new_ca,
            ca_bundle: both,
            serving: new_serving,
        } = rotated
        else {
            unreachable!()
        };
        assert_ne!(new_ca, ca);
        assert_eq!(tls::certs_of(&both).unwrap().len(), 2);
        tls::verify(&both, &new_serving.cert_pem, "w.n.svc", tls::now()).unwrap();
        tls::verify(&both, &serving.cert_pem, "w.n.svc", tls::now()).unwrap();
    }
}
