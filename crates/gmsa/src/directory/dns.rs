//! Finding a domain controller from the domain name: the DNS SRV records
//! `_ldap._tcp.dc._msdcs.<domain>` that Active Directory publishes, asked over UDP from the
//! nameserver in `$GMSA_DNS_SERVER` or the first `nameserver` of /etc/resolv.conf.
//! A minimal client: one question, SRV and A answers, name compression.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};

/// Overrides the nameserver (`IP` or `IP:PORT`).
pub const DNS_SERVER_ENV: &str = "GMSA_DNS_SERVER";

/// An answer: response code, SRV records, and A records by owner name.
type Answer = (u16, Vec<SrvRecord>, Vec<(String, Ipv4Addr)>);

const TYPE_A: u16 = 1;
const TYPE_SRV: u16 = 33;

/// One SRV answer, with the addresses the server sent along for its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvRecord {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
    pub addresses: Vec<IpAddr>,
}

/// The nameserver to ask.
pub fn nameserver() -> Option<SocketAddr> {
    if let Ok(v) = std::env::var(DNS_SERVER_ENV) {
        if let Ok(a) = v.parse::<SocketAddr>() {
            return Some(a);
        }
        if let Ok(ip) = v.parse::<IpAddr>() {
            return Some(SocketAddr::new(ip, 53));
        }
    }
    let conf = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    conf.lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|v| v.trim().parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .next()
}

pub(crate) fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut q = Vec::with_capacity(name.len() + 18);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&0x0100u16.to_be_bytes()); // recursion desired
    q.extend_from_slice(&1u16.to_be_bytes());
    q.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes()); // IN
    q
}

fn read_name(msg: &[u8], mut pos: usize) -> std::result::Result<(String, usize), String> {
    let mut labels: Vec<String> = vec![];
    let mut end = None;
    for _ in 0..64 {
        let len = *msg.get(pos).ok_or("truncated name")? as usize;
        if len & 0xC0 == 0xC0 {
            let next = *msg.get(pos + 1).ok_or("truncated pointer")? as usize;
            end.get_or_insert(pos + 2);
            pos = ((len & 0x3F) << 8) | next;
            continue;
        }
        if len == 0 {
            return Ok((labels.join("."), end.unwrap_or(pos + 1)));
        }
        let label = msg.get(pos + 1..pos + 1 + len).ok_or("truncated label")?;
        labels.push(String::from_utf8_lossy(label).into_owned());
        pos += 1 + len;
    }
    Err("name compression loop".into())
}

fn u16_at(msg: &[u8], pos: usize) -> std::result::Result<u16, String> {
    msg.get(pos..pos + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| "truncated record".to_owned())
}

/// Parse an answer: SRV records (answers) and A records (anywhere) by owner name.
pub(crate) fn parse(msg: &[u8], id: u16) -> std::result::Result<Answer, String> {
    if msg.len() < 12 || u16_at(msg, 0)? != id {
        return Err("not an answer to our question".into());
    }
    let rcode = u16_at(msg, 2)? & 0x000F;
    let qd = u16_at(msg, 4)? as usize;
    let an = u16_at(msg, 6)? as usize;
    let rest = u16_at(msg, 8)? as usize + u16_at(msg, 10)? as usize;
    let mut pos = 12;
    for _ in 0..qd {
        pos = read_name(msg, pos)?.1 + 4;
    }
    let mut srv = vec![];
    let mut a = vec![];
    for i in 0..an + rest {
        let (owner, p) = read_name(msg, pos)?;
        let rtype = u16_at(msg, p)?;
        let rdlen = u16_at(msg, p + 8)? as usize;
        let rdata = p + 10;
        if msg.len() < rdata + rdlen {
            return Err("truncated record data".into());
        }
        match rtype {
            TYPE_SRV if i < an && rdlen >= 7 => srv.push(SrvRecord {
                priority: u16_at(msg, rdata)?,
                weight: u16_at(msg, rdata + 2)?,
                port: u16_at(msg, rdata + 4)?,
                target: read_name(msg, rdata + 6)?.0,
                addresses: vec![],
            }),
            TYPE_A if rdlen == 4 => a.push((
                owner,
                Ipv4Addr::new(msg[rdata], msg[rdata + 1], msg[rdata + 2], msg[rdata + 3]),
            )),
            _ => {}
        }
        pos = rdata + rdlen;
    }
    Ok((rcode, srv, a))
}

async fn ask(ns: SocketAddr, name: &str, qtype: u16, timeout: Duration) -> Result<Answer> {
    let fail = |m: String| {
        Error::new(
            ErrorKind::Unreachable,
            format!("DNS query for {name} at {ns} failed: {m}"),
        )
        .with_hint(format!(
            "pass --server, or point ${DNS_SERVER_ENV} at a DNS server of the domain"
        ))
    };
    let bind: SocketAddr = if ns.is_ipv4() {
        "0.0.0.0:0".parse().expect("valid")
    } else {
        "[::]:0".parse().expect("valid")
    };
    let sock = tokio::net::UdpSocket::bind(bind)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let id = (std::process::id() as u16) ^ (qtype << 8) ^ 0x5a5a;
    let q = query(id, name, qtype);
    let mut buf = vec![0u8; 4096];
    for _ in 0..2 {
        sock.send_to(&q, ns)
            .await
            .map_err(|e| fail(e.to_string()))?;
        match tokio::time::timeout(timeout / 2, sock.recv_from(&mut buf)).await {
            Ok(Ok((n, from))) if from == ns => return parse(&buf[..n], id).map_err(fail),
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => return Err(fail(e.to_string())),
            Err(_) => continue,
        }
    }
    Err(Error::new(
        ErrorKind::Timeout,
        format!("the DNS server {ns} did not answer for {name}"),
    )
    .with_hint(format!(
        "pass --server, or point ${DNS_SERVER_ENV} at a DNS server of the domain"
    )))
}

/// The domain controllers of `domain`, best first (lowest priority, then highest weight),
/// each with its addresses.
pub async fn find_dcs(domain: &str, timeout: Duration) -> Result<Vec<SrvRecord>> {
    let ns = nameserver().ok_or_else(|| {
        Error::new(
            ErrorKind::Config,
            "no DNS server to find a domain controller with",
        )
        .with_hint(format!(
            "pass --server ldaps://<dc>, or set ${DNS_SERVER_ENV}"
        ))
    })?;
    let name = format!("_ldap._tcp.dc._msdcs.{}", domain.trim_end_matches('.'));
    let (rcode, mut srv, glue) = ask(ns, &name, TYPE_SRV, timeout).await?;
    if srv.is_empty() {
        let why = if rcode == 3 {
            "no such name"
        } else {
            "no SRV records"
        };
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("no domain controller found for {domain}: {name} has {why} at {ns}"),
        )
        .with_hint("check the domain name, or pass --server ldaps://<dc>"));
    }
    srv.sort_by(|a, b| a.priority.cmp(&b.priority).then(b.weight.cmp(&a.weight)));
    for r in &mut srv {
        r.addresses = glue
            .iter()
            .filter(|(o, _)| o.eq_ignore_ascii_case(&r.target))
            .map(|(_, ip)| IpAddr::V4(*ip))
            .collect();
        if r.addresses.is_empty() {
            if let Ok((_, _, a)) = ask(ns, &r.target, TYPE_A, timeout).await {
                r.addresses = a.into_iter().map(|(_, ip)| IpAddr::V4(ip)).collect();
            }
        }
    }
    Ok(srv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_srv_answer_with_compression_and_glue() {
        let id = 0x1234;
        let mut m = query(id, "_ldap._tcp.dc._msdcs.gmsa.test", TYPE_SRV);
        m[2] = 0x81;
        m[3] = 0x80; // response, no error
        m[7] = 1; // one answer
        m[11] = 1; // one additional
                   // Answer: owner = pointer to the question name (offset 12), SRV 0 100 389 dc1.gmsa.test
        m.extend_from_slice(&[0xC0, 12, 0, 33, 0, 1, 0, 0, 0, 60]);
        let target: Vec<u8> = [&[3u8][..], b"dc1", &[4], b"gmsa", &[4], b"test", &[0]].concat();
        let rd_len = 6 + target.len();
        m.extend_from_slice(&(rd_len as u16).to_be_bytes());
        let target_at = m.len() + 6;
        m.extend_from_slice(&[0, 0, 0, 100, 1, 133]);
        m.extend_from_slice(&target);
        // Additional: A record for a pointer to the SRV target.
        m.extend_from_slice(&[
            0xC0,
            target_at as u8,
            0,
            1,
            0,
            1,
            0,
            0,
            0,
            60,
            0,
            4,
            127,
            0,
            0,
            1,
        ]);
        let (rcode, srv, a) = parse(&m, id).unwrap();
        assert_eq!(rcode, 0);
        assert_eq!(srv.len(), 1);
        assert_eq!((srv[0].priority, srv[0].weight, srv[0].port), (0, 100, 389));
        assert_eq!(srv[0].target, "dc1.gmsa.test");
        assert_eq!(a, vec![("dc1.gmsa.test".to_owned(), Ipv4Addr::LOCALHOST)]);
        assert!(parse(&m, id + 1).is_err());
        assert!(parse(&m[..m.len() - 3], id).is_err());
    }
}
