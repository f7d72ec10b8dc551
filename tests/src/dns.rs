//! A DNS server of our own for the tests: UDP and TCP on one random port of 127.0.0.1, serving
//! a small zone (SRV and A records), optionally answering SRV questions truncated (TC bit, no
//! records) over UDP and in full over TCP, as a domain with many DCs does. It logs every
//! question, so a test can tell which transport was asked what. Written by hand from RFC 1035
//! rather than with the resolver library under test. Stops when dropped.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

pub const TYPE_A: u16 = 1;
pub const TYPE_AAAA: u16 = 28;
pub const TYPE_SRV: u16 = 33;

/// One SRV record: owner, priority, weight, port, target.
#[derive(Debug, Clone)]
pub struct Srv {
    pub owner: String,
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
}

/// What the server answers.
#[derive(Debug, Clone, Default)]
pub struct Zone {
    pub srv: Vec<Srv>,
    pub a: Vec<(String, Ipv4Addr)>,
    /// SRV questions over UDP get an empty answer with the TC bit set.
    pub truncate_srv_over_udp: bool,
    /// SRV answers carry the targets' A records in the additional section.
    pub glue: bool,
}

/// One question the server was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    pub tcp: bool,
    pub name: String,
    pub qtype: u16,
    /// The answer had the TC bit.
    pub truncated: bool,
}

/// A running server; stops its threads when dropped.
pub struct TestDns {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Asked>>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl TestDns {
    /// Serve `zone` on 127.0.0.1, UDP and TCP on the same random port.
    pub fn start(zone: Zone) -> TestDns {
        let (udp, tcp) = bind_pair();
        let addr = udp.local_addr().unwrap();
        udp.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        tcp.set_nonblocking(true).unwrap();
        let zone = Arc::new(zone);
        let log = Arc::new(Mutex::new(vec![]));
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = vec![];
        {
            let (zone, log, stop) = (zone.clone(), log.clone(), stop.clone());
            threads.push(std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while !stop.load(Ordering::SeqCst) {
                    let Ok((n, from)) = udp.recv_from(&mut buf) else {
                        continue;
                    };
                    if let Some(reply) = answer(&zone, &buf[..n], false, &log) {
                        let _ = udp.send_to(&reply, from);
                    }
                }
            }));
        }
        {
            let (log, stop) = (log.clone(), stop.clone());
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match tcp.accept() {
                        Ok((s, _)) => {
                            let (zone, log, stop) = (zone.clone(), log.clone(), stop.clone());
                            std::thread::spawn(move || serve_tcp(s, &zone, &log, &stop));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            }));
        }
        TestDns {
            addr,
            log,
            stop,
            threads,
        }
    }

    /// The questions asked so far, in order.
    pub fn asked(&self) -> Vec<Asked> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for TestDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A UDP socket and a TCP listener on the same random loopback port.
fn bind_pair() -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP port on 127.0.0.1");
        let port = udp.local_addr().unwrap().port();
        if let Ok(tcp) = TcpListener::bind(("127.0.0.1", port)) {
            return (udp, tcp);
        }
    }
    panic!("no loopback port free for both UDP and TCP");
}

fn serve_tcp(mut s: TcpStream, zone: &Zone, log: &Mutex<Vec<Asked>>, stop: &AtomicBool) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    while !stop.load(Ordering::SeqCst) {
        let mut len = [0u8; 2];
        if s.read_exact(&mut len).is_err() {
            return;
        }
        let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
        if s.read_exact(&mut msg).is_err() {
            return;
        }
        let Some(reply) = answer(zone, &msg, true, log) else {
            return;
        };
        let mut out = (reply.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(&reply);
        if s.write_all(&out).is_err() {
            return;
        }
    }
}

/// The question of a query: name (lower case, no trailing dot), type, and where it ends.
pub fn question(msg: &[u8]) -> Option<(String, u16, usize)> {
    if msg.len() < 12 || u16::from_be_bytes([msg[4], msg[5]]) == 0 {
        return None;
    }
    let mut pos = 12;
    let mut labels = vec![];
    loop {
        let len = *msg.get(pos)? as usize;
        if len == 0 {
            pos += 1;
            break;
        }
        if len & 0xC0 != 0 {
            return None; // queries carry no compressed names
        }
        labels.push(String::from_utf8_lossy(msg.get(pos + 1..pos + 1 + len)?).to_lowercase());
        pos += 1 + len;
    }
    let qtype = u16::from_be_bytes([*msg.get(pos)?, *msg.get(pos + 1)?]);
    msg.get(pos + 3)?; // class
    Some((labels.join("."), qtype, pos + 4))
}

/// A name in wire form, uncompressed.
pub fn encode_name(name: &str) -> Vec<u8> {
    let mut out = vec![];
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

fn record(out: &mut Vec<u8>, owner: &str, rtype: u16, rdata: &[u8]) {
    out.extend_from_slice(&encode_name(owner));
    out.extend_from_slice(&rtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // IN
    out.extend_from_slice(&60u32.to_be_bytes()); // TTL
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(rdata);
}

/// The reply to one query (None for something that is not a query).
fn answer(zone: &Zone, msg: &[u8], tcp: bool, log: &Mutex<Vec<Asked>>) -> Option<Vec<u8>> {
    let (name, qtype, end) = question(msg)?;
    let same = |n: &str| n.trim_end_matches('.').eq_ignore_ascii_case(&name);
    let srv: Vec<&Srv> = zone.srv.iter().filter(|r| same(&r.owner)).collect();
    let a: Vec<Ipv4Addr> = zone
        .a
        .iter()
        .filter(|(n, _)| same(n))
        .map(|(_, ip)| *ip)
        .collect();
    let exists = !srv.is_empty() || !a.is_empty();
    let mut answers = vec![];
    let mut additional = vec![];
    let (mut an, mut ar) = (0u16, 0u16);
    let mut truncated = false;
    match qtype {
        TYPE_SRV if !srv.is_empty() && !tcp && zone.truncate_srv_over_udp => truncated = true,
        TYPE_SRV => {
            for r in &srv {
                let mut rd = vec![];
                rd.extend_from_slice(&r.priority.to_be_bytes());
                rd.extend_from_slice(&r.weight.to_be_bytes());
                rd.extend_from_slice(&r.port.to_be_bytes());
                rd.extend_from_slice(&encode_name(&r.target));
                record(&mut answers, &name, TYPE_SRV, &rd);
                an += 1;
                if zone.glue {
                    for (n, ip) in zone
                        .a
                        .iter()
                        .filter(|(n, _)| n.eq_ignore_ascii_case(&r.target))
                    {
                        record(&mut additional, n, TYPE_A, &ip.octets());
                        ar += 1;
                    }
                }
            }
        }
        TYPE_A => {
            for ip in &a {
                record(&mut answers, &name, TYPE_A, &ip.octets());
                an += 1;
            }
        }
        _ => {}
    }
    log.lock().unwrap().push(Asked {
        tcp,
        name: name.clone(),
        qtype,
        truncated,
    });
    let rd = msg[2] & 0x01;
    let mut flags: u16 = 0x8400 | ((rd as u16) << 8) | 0x0080; // QR, AA, RD as asked, RA
    if truncated {
        flags |= 0x0200;
    }
    if !exists {
        flags |= 3; // NXDOMAIN
    }
    let mut out = vec![msg[0], msg[1]];
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&an.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&ar.to_be_bytes());
    out.extend_from_slice(&msg[12..end]);
    out.extend_from_slice(&answers);
    out.extend_from_slice(&additional);
    Some(out)
}

/// A command that runs `program` in a mount namespace of its own where `/etc/hosts` has only
/// localhost lines and `/etc/resolv.conf` names only 127.0.0.9 (where no DNS server listens),
/// so nothing about the test domain can come from the machine's resolver. Needs root and
/// `unshare` (util-linux). Add the program's arguments and environment to the command; keep
/// the directory alive until it has run.
pub fn with_pristine_resolver(program: &std::path::Path) -> (tempfile::TempDir, Command) {
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    let resolv = dir.path().join("resolv.conf");
    std::fs::write(&hosts, "127.0.0.1 localhost\n::1 localhost ip6-localhost\n").unwrap();
    std::fs::write(&resolv, "nameserver 127.0.0.9\n").unwrap();
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "sh", "-c"])
        .arg(
            "mount --bind \"$1\" /etc/hosts && mount --bind \"$2\" /etc/resolv.conf && shift 2 && exec \"$@\"",
        )
        .arg("sh")
        .arg(&hosts)
        .arg(&resolv)
        .arg(program);
    (dir, cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend_from_slice(&encode_name(name));
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&1u16.to_be_bytes());
        q
    }

    #[test]
    fn truncates_srv_over_udp_only_and_logs_it() {
        let zone = Zone {
            srv: vec![Srv {
                owner: "_ldap._tcp.dc._msdcs.x.test".into(),
                priority: 0,
                weight: 100,
                port: 389,
                target: "dc1.x.test".into(),
            }],
            a: vec![("dc1.x.test".into(), Ipv4Addr::LOCALHOST)],
            truncate_srv_over_udp: true,
            glue: true,
        };
        let log = Mutex::new(vec![]);
        let q = query("_LDAP._tcp.dc._msdcs.x.test", TYPE_SRV);
        let udp = answer(&zone, &q, false, &log).unwrap();
        assert_eq!(udp[2] & 0x02, 0x02, "TC bit");
        assert_eq!(&udp[6..8], &[0, 0], "no answers");
        let tcp = answer(&zone, &q, true, &log).unwrap();
        assert_eq!(tcp[2] & 0x02, 0, "no TC bit");
        assert_eq!((&tcp[6..8], &tcp[10..12]), (&[0u8, 1][..], &[0u8, 1][..]));
        let nx = answer(&zone, &query("nope.x.test", TYPE_A), false, &log).unwrap();
        assert_eq!(nx[3] & 0x0F, 3);
        let asked = log.lock().unwrap().clone();
        assert_eq!(asked.len(), 3);
        assert!(asked[0].truncated && !asked[0].tcp);
        assert!(!asked[1].truncated && asked[1].tcp);
        assert_eq!(asked[0].name, "_ldap._tcp.dc._msdcs.x.test");
    }
}
