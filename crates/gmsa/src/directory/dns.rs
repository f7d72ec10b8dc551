//! Finding a domain controller from the domain name: the DNS SRV records
//! `_ldap._tcp.dc._msdcs.<domain>` that Active Directory publishes, asked with hickory-resolver
//! of one DNS server: `--dns-server` (the request's `dns_server`), else `$GMSA_DNS_SERVER`,
//! else the system's resolver configuration. A truncated UDP answer is asked again over TCP,
//! and each DC's address comes from the same server (the answer's additional section, else an
//! A/AAAA query), never from the hosts file when a server is named.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::lookup::Lookup;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError, NoRecords};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use hickory_resolver::TokioResolver;

use crate::error::{Error, ErrorKind, Result};

/// Names the DNS server when no `--dns-server` is given (`IP` or `IP:PORT`).
pub const DNS_SERVER_ENV: &str = "GMSA_DNS_SERVER";

/// One SRV answer, with the addresses the same DNS server gave for its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvRecord {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
    pub addresses: Vec<IpAddr>,
}

/// A DNS server as the user writes it: `IP`, `IP:PORT` or `[IPv6]:PORT` (port 53 by default).
/// A host name is refused: finding it would need DNS already.
pub fn parse_server(text: &str) -> Result<SocketAddr> {
    let t = text.trim();
    let bad = |why: &str| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("invalid DNS server \"{text}\": {why}"),
        )
        .with_hint("give the DNS server as IP or IP:PORT, for example 10.0.0.10 or 10.0.0.10:53")
    };
    let addr = if let Ok(a) = t.parse::<SocketAddr>() {
        a
    } else if let Ok(ip) = t
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or(t)
        .parse::<IpAddr>()
    {
        SocketAddr::new(ip, 53)
    } else {
        return Err(bad(
            "not an IP address (a host name would need DNS to find)",
        ));
    };
    if addr.port() == 0 {
        return Err(bad("port 0"));
    }
    Ok(addr)
}

/// The DNS server named by `flag` (`--dns-server`), else by `$GMSA_DNS_SERVER`; `None` means
/// the system's resolver configuration.
pub fn chosen_server(flag: Option<&str>) -> Result<Option<SocketAddr>> {
    if let Some(f) = flag.filter(|f| !f.trim().is_empty()) {
        return parse_server(f).map(Some);
    }
    match std::env::var(DNS_SERVER_ENV) {
        Ok(v) if !v.trim().is_empty() => parse_server(&v)
            .map(Some)
            .map_err(|e| e.context(format_args!("read ${DNS_SERVER_ENV}"))),
        _ => Ok(None),
    }
}

/// Best first: lowest priority, then highest weight (stable for equal ones).
pub fn order(records: &mut [SrvRecord]) {
    records.sort_by(|a, b| a.priority.cmp(&b.priority).then(b.weight.cmp(&a.weight)));
}

/// The A and AAAA records among `records` whose owner is `target`.
pub fn addresses_of(target: &Name, records: &[Record]) -> Vec<IpAddr> {
    records
        .iter()
        .filter(|r| &r.name == target)
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect()
}

/// A name as users read it: no trailing dot.
fn plain(name: &Name) -> String {
    name.to_ascii().trim_end_matches('.').to_owned()
}

/// A resolver that asks `server` only (UDP, then TCP when the answer is truncated), or the
/// system's configured servers; with a description of where it asks, for messages.
/// Over TCP only when `tcp_only` (the doctor's check that DNS over TCP works, which domains
/// with many DCs need for their truncated answers).
fn resolver_over(
    server: Option<SocketAddr>,
    timeout: Duration,
    tcp_only: bool,
) -> Result<(TokioResolver, String)> {
    let (config, mut opts, hosts, at) = match server {
        Some(addr) => {
            let mut ns = if tcp_only {
                NameServerConfig::tcp(addr.ip())
            } else {
                NameServerConfig::udp_and_tcp(addr.ip())
            };
            for c in &mut ns.connections {
                c.port = addr.port();
            }
            let config = ResolverConfig::from_name_servers(vec![ns]);
            (
                config,
                ResolverOpts::default(),
                ResolveHosts::Never,
                addr.to_string(),
            )
        }
        None => {
            let (config, opts) = hickory_resolver::system_conf::read_system_conf().map_err(|e| {
                Error::new(
                    ErrorKind::Config,
                    format!("no DNS server to find a domain controller with: {e}"),
                )
                .with_hint(format!(
                    "pass --dns-server IP[:PORT] (or set ${DNS_SERVER_ENV}), or --server ldaps://<dc>"
                ))
            })?;
            if config.name_servers().is_empty() {
                return Err(Error::new(
                    ErrorKind::Config,
                    "no DNS server to find a domain controller with",
                )
                .with_hint(format!(
                    "pass --dns-server IP[:PORT] (or set ${DNS_SERVER_ENV}), or --server ldaps://<dc>"
                )));
            }
            let mut ips: Vec<String> = vec![];
            for ns in config.name_servers() {
                let ip = ns.ip.to_string();
                if !ips.contains(&ip) {
                    ips.push(ip);
                }
            }
            let at = format!("the system's DNS server {}", ips.join(", "));
            let config = if tcp_only {
                let servers = ips
                    .iter()
                    .filter_map(|ip| ip.parse::<IpAddr>().ok())
                    .map(NameServerConfig::tcp)
                    .collect();
                ResolverConfig::from_name_servers(servers)
            } else {
                config
            };
            (config, opts, ResolveHosts::Auto, at)
        }
    };
    opts.timeout = timeout;
    opts.attempts = 1;
    opts.use_hosts_file = hosts;
    opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    let mut builder = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
    *builder.options_mut() = opts;
    let resolver = builder.build().map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("failed to set up the DNS resolver: {e}"),
        )
    })?;
    Ok((resolver, at))
}

fn hint() -> String {
    format!("pass --dns-server IP[:PORT] (or set ${DNS_SERVER_ENV}) with a DNS server of the domain, or --server ldaps://<dc>")
}

/// A resolver error in our words.
fn dns_error(e: NetError, name: &str, domain: &str, at: &str) -> Error {
    match e {
        NetError::Dns(DnsError::NoRecordsFound(nr)) => {
            let why = if nr.response_code == ResponseCode::NXDomain {
                "no such name"
            } else {
                "no SRV records"
            };
            Error::new(
                ErrorKind::NotFound,
                format!("no domain controller found for {domain}: {name} has {why} at {at}"),
            )
            .with_hint("check the domain name, or pass --server ldaps://<dc>")
        }
        NetError::Timeout => Error::new(
            ErrorKind::Timeout,
            format!("{at} did not answer the DNS query for {name}"),
        )
        .with_hint(hint()),
        NetError::Truncated => Error::new(
            ErrorKind::Unreachable,
            format!("{at} sent a truncated answer for {name}, even over TCP"),
        )
        .with_hint(hint()),
        NetError::Dns(DnsError::ResponseCode(code)) => Error::new(
            ErrorKind::Unreachable,
            format!("{at} answered {code} to the DNS query for {name}"),
        )
        .with_hint(hint()),
        other => Error::new(
            ErrorKind::Unreachable,
            format!("DNS query for {name} at {at} failed: {other}"),
        )
        .with_hint(hint()),
    }
}

/// The SRV answer for `_ldap._tcp.dc._msdcs.<domain>` from the chosen DNS server, with the
/// resolver (for the DCs' addresses), where it asked, and the name asked for, for messages.
struct SrvAnswer {
    resolver: TokioResolver,
    at: String,
    name: String,
    lookup: Lookup,
}

async fn ask_srv(
    domain: &str,
    dns_server: Option<&str>,
    timeout: Duration,
    tcp_only: bool,
) -> Result<SrvAnswer> {
    let server = chosen_server(dns_server)?;
    let (resolver, at) = resolver_over(server, timeout, tcp_only)?;
    let name = format!("_ldap._tcp.dc._msdcs.{}", domain.trim_end_matches('.'));
    let fqdn = Name::from_ascii(format!("{name}.")).map_err(|e| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("invalid domain name \"{domain}\": {e}"),
        )
    })?;
    // A hard bound on top of the resolver's own per-query timeout (UDP then TCP).
    let lookup =
        match tokio::time::timeout(timeout * 2, resolver.lookup(fqdn, RecordType::SRV)).await {
            Ok(r) => r.map_err(|e| dns_error(e, &name, domain, &at))?,
            Err(_) => return Err(dns_error(NetError::Timeout, &name, domain, &at)),
        };
    Ok(SrvAnswer {
        resolver,
        at,
        name,
        lookup,
    })
}

/// How many SRV records `_ldap._tcp.dc._msdcs.<domain>` has, asked over TCP only, of the
/// same DNS server as [`find_dcs`].
pub async fn count_dcs_over_tcp(
    domain: &str,
    dns_server: Option<&str>,
    timeout: Duration,
) -> Result<usize> {
    let answer = ask_srv(domain, dns_server, timeout, true).await?;
    Ok(answer
        .lookup
        .answers()
        .iter()
        .filter(|r| matches!(r.data, RData::SRV(_)))
        .count())
}

/// The domain controllers of `domain`, best first (lowest priority, then highest weight), each
/// with its addresses from the same DNS server. `dns_server` is `--dns-server` (see
/// [`chosen_server`]). An error of kind `Config` means no DNS server is configured at all.
pub async fn find_dcs(
    domain: &str,
    dns_server: Option<&str>,
    timeout: Duration,
) -> Result<Vec<SrvRecord>> {
    let SrvAnswer {
        resolver,
        at,
        name,
        lookup,
    } = ask_srv(domain, dns_server, timeout, false).await?;
    let mut found: Vec<(SrvRecord, Name)> = lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::SRV(srv) => Some((
                SrvRecord {
                    priority: srv.priority,
                    weight: srv.weight,
                    port: srv.port,
                    target: plain(&srv.target),
                    addresses: addresses_of(&srv.target, lookup.additionals()),
                },
                srv.target.clone(),
            )),
            _ => None,
        })
        .collect();
    if found.is_empty() {
        return Err(dns_error(
            NetError::Dns(DnsError::NoRecordsFound(NoRecords::new(
                lookup.query().clone(),
                ResponseCode::NoError,
            ))),
            &name,
            domain,
            &at,
        ));
    }
    for (record, target) in &mut found {
        if !record.addresses.is_empty() {
            continue;
        }
        let mut target = target.clone();
        target.set_fqdn(true);
        if let Ok(Ok(ips)) = tokio::time::timeout(timeout * 2, resolver.lookup_ip(target)).await {
            record.addresses = ips.iter().collect();
        }
    }
    let mut records: Vec<SrvRecord> = found.into_iter().map(|(r, _)| r).collect();
    order(&mut records);
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::rr::rdata::{A, AAAA};
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn dns_servers_as_users_write_them() {
        assert_eq!(
            parse_server("10.0.0.10").unwrap(),
            "10.0.0.10:53".parse().unwrap()
        );
        assert_eq!(
            parse_server(" 127.0.0.1:5353 ").unwrap(),
            "127.0.0.1:5353".parse().unwrap()
        );
        assert_eq!(parse_server("::1").unwrap(), "[::1]:53".parse().unwrap());
        assert_eq!(parse_server("[::1]").unwrap(), "[::1]:53".parse().unwrap());
        assert_eq!(
            parse_server("[::1]:5300").unwrap(),
            "[::1]:5300".parse().unwrap()
        );
        for bad in [
            "dc1.contoso.com",
            "10.0.0.10:0",
            "10.0.0.10:99999",
            "",
            "10.0.0",
        ] {
            let e = parse_server(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput, "{bad}");
            assert!(e.message.contains("invalid DNS server"), "{}", e.message);
        }
    }

    #[test]
    fn the_flag_wins_and_a_blank_flag_counts_as_none() {
        // The environment is process-wide: only the flag paths are checked here.
        assert_eq!(
            chosen_server(Some("127.0.0.1:1053")).unwrap(),
            Some("127.0.0.1:1053".parse().unwrap())
        );
        assert!(chosen_server(Some("not-an-ip")).is_err());
        assert_eq!(
            chosen_server(Some("  ")).ok(),
            chosen_server(None).ok(),
            "a blank flag is no flag"
        );
    }

    fn srv(priority: u16, weight: u16, target: &str) -> SrvRecord {
        SrvRecord {
            priority,
            weight,
            port: 389,
            target: target.into(),
            addresses: vec![],
        }
    }

    #[test]
    fn lowest_priority_then_highest_weight_first() {
        let mut r = vec![
            srv(10, 100, "c"),
            srv(0, 10, "b"),
            srv(0, 50, "a"),
            srv(0, 10, "b2"),
        ];
        order(&mut r);
        let names: Vec<_> = r.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(names, ["a", "b", "b2", "c"]);
    }

    #[test]
    fn addresses_come_from_records_of_the_target_only() {
        let dc1 = Name::from_ascii("dc1.gmsa.test.").unwrap();
        let upper = Name::from_ascii("DC1.GMSA.TEST.").unwrap();
        let dc2 = Name::from_ascii("dc2.gmsa.test.").unwrap();
        let records = vec![
            Record::from_rdata(upper, 60, RData::A(A(Ipv4Addr::new(127, 0, 0, 1)))),
            Record::from_rdata(dc2.clone(), 60, RData::A(A(Ipv4Addr::new(127, 0, 0, 2)))),
            Record::from_rdata(dc1.clone(), 60, RData::AAAA(AAAA(Ipv6Addr::LOCALHOST))),
        ];
        assert_eq!(
            addresses_of(&dc1, &records),
            vec![
                IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)),
                IpAddr::V6(Ipv6Addr::LOCALHOST)
            ]
        );
        assert_eq!(
            addresses_of(&dc2, &records),
            vec![IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))]
        );
        assert!(addresses_of(&Name::from_ascii("dc3.gmsa.test.").unwrap(), &records).is_empty());
        assert_eq!(plain(&dc1), "dc1.gmsa.test");
    }
}
