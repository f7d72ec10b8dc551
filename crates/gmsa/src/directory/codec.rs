//! Binary forms Active Directory stores and how to read and write them: SIDs, GUIDs,
//! the self-relative security descriptor of `msDS-GroupMSAMembership`, FILETIMEs, and
//! the escaping of values inside LDAP search filters.

use std::fmt::Write as _;

/// Decode a binary SID (revision, sub-authority count, 6-byte big-endian authority,
/// little-endian u32 sub-authorities) to `S-1-...`.
pub fn sid_to_string(b: &[u8]) -> Result<String, String> {
    if b.len() < 8 {
        return Err(format!("a SID needs at least 8 bytes, got {}", b.len()));
    }
    if b[0] != 1 {
        return Err(format!("unknown SID revision {}", b[0]));
    }
    let count = b[1] as usize;
    // As Windows defines it (SID_MAX_SUB_AUTHORITIES), and as `sid_from_string` encodes.
    if count > 15 {
        return Err(format!("a SID has at most 15 sub-authorities, got {count}"));
    }
    if b.len() != 8 + 4 * count {
        return Err(format!(
            "a SID with {count} sub-authorities has {} bytes, got {}",
            8 + 4 * count,
            b.len()
        ));
    }
    let authority = b[2..8]
        .iter()
        .fold(0u64, |acc, x| (acc << 8) | u64::from(*x));
    let mut s = format!("S-1-{authority}");
    for i in 0..count {
        let o = 8 + 4 * i;
        let sub = u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let _ = write!(s, "-{sub}");
    }
    Ok(s)
}

/// Encode `S-1-...` to the binary form.
pub fn sid_from_string(s: &str) -> Result<Vec<u8>, String> {
    let bad = || format!("\"{s}\" is not a SID");
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() < 3 || !parts[0].eq_ignore_ascii_case("S") || parts[1] != "1" {
        return Err(bad());
    }
    let authority: u64 = parts[2].parse().map_err(|_| bad())?;
    if authority >= 1 << 48 {
        return Err(bad());
    }
    let subs = &parts[3..];
    if subs.len() > 15 {
        return Err(bad());
    }
    let mut out = vec![1u8, subs.len() as u8];
    out.extend_from_slice(&authority.to_be_bytes()[2..]);
    for sub in subs {
        let v: u32 = sub.parse().map_err(|_| bad())?;
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

/// Decode a 16-byte `objectGUID` (first three groups little-endian) to its string form,
/// lower case, no braces.
pub fn guid_to_string(b: &[u8]) -> Result<String, String> {
    let b: &[u8; 16] = b
        .try_into()
        .map_err(|_| format!("a GUID has 16 bytes, got {}", b.len()))?;
    Ok(format!(
        "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_le_bytes([b[4], b[5]]),
        u16::from_le_bytes([b[6], b[7]]),
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    ))
}

/// Escape bytes for an LDAP filter value (RFC 4515): every byte as `\xx`.
pub fn filter_bytes(b: &[u8]) -> String {
    b.iter()
        .fold(String::with_capacity(b.len() * 3), |mut s, x| {
            let _ = write!(s, "\\{x:02x}");
            s
        })
}

/// Escape a string for an LDAP filter value (RFC 4515): `*`, `(`, `)`, `\` and NUL.
pub fn filter_str(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '*' => s.push_str("\\2a"),
            '(' => s.push_str("\\28"),
            ')' => s.push_str("\\29"),
            '\\' => s.push_str("\\5c"),
            '\0' => s.push_str("\\00"),
            c => s.push(c),
        }
    }
    s
}

/// Escape a value for use as an RDN value in a DN (RFC 4514).
pub fn dn_value(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for (i, c) in v.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=' => {
                s.push('\\');
                s.push(c);
            }
            '#' | ' ' if i == 0 => {
                s.push('\\');
                s.push(c);
            }
            c => s.push(c),
        }
    }
    if s.ends_with(' ') {
        s.pop();
        s.push_str("\\ ");
    }
    s
}

/// Seconds between 1601-01-01 (FILETIME's epoch) and 1970-01-01.
const FILETIME_UNIX_OFFSET: i64 = 11_644_473_600;

/// A FILETIME (100 ns units since 1601) as Unix seconds.
pub fn filetime_to_unix(ft: i64) -> i64 {
    ft / 10_000_000 - FILETIME_UNIX_OFFSET
}

/// Access mask that `New-ADServiceAccount -PrincipalsAllowedToRetrieveManagedPassword`
/// grants each principal in `msDS-GroupMSAMembership`: 0x000F01FF, that is all the
/// object-specific rights 0x1FF plus DELETE, READ_CONTROL, WRITE_DAC and WRITE_OWNER.
/// Active Directory only checks that an ACE grants the principal read access; the value
/// is what Windows writes, so that our accounts look like theirs.
pub const GMSA_MEMBERSHIP_MASK: u32 = 0x000F_01FF;

/// The owner Windows sets on `msDS-GroupMSAMembership`: BUILTIN\Administrators.
pub const BUILTIN_ADMINISTRATORS: &str = "S-1-5-32-544";

const SE_DACL_PRESENT: u16 = 0x0004;
const SE_SELF_RELATIVE: u16 = 0x8000;
const ACL_REVISION: u8 = 2;
const ACCESS_ALLOWED_ACE_TYPE: u8 = 0;

/// One access-allowed entry of a security descriptor's DACL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedAce {
    pub sid: String,
    pub mask: u32,
}

/// Build the self-relative security descriptor `O:BAD:(A;;0xf01ff;;;<sid>)...` that
/// `msDS-GroupMSAMembership` holds: owner BUILTIN\Administrators, no group, no SACL, a
/// DACL with one access-allowed ACE per principal.
pub fn gmsa_membership_sd(principal_sids: &[String]) -> Result<Vec<u8>, String> {
    let owner = sid_from_string(BUILTIN_ADMINISTRATORS)?;
    let mut aces = Vec::new();
    for sid in principal_sids {
        let sid = sid_from_string(sid)?;
        let size = 8 + sid.len();
        aces.push(ACCESS_ALLOWED_ACE_TYPE);
        aces.push(0); // flags
        aces.extend_from_slice(&(size as u16).to_le_bytes());
        aces.extend_from_slice(&GMSA_MEMBERSHIP_MASK.to_le_bytes());
        aces.extend_from_slice(&sid);
    }
    let acl_size = 8 + aces.len();
    if acl_size > u16::MAX as usize {
        return Err("too many principals for one security descriptor".into());
    }
    let owner_offset = 20u32;
    let dacl_offset = owner_offset + owner.len() as u32;
    let mut sd = Vec::with_capacity(dacl_offset as usize + acl_size);
    sd.push(1); // revision
    sd.push(0); // sbz1
    sd.extend_from_slice(&(SE_DACL_PRESENT | SE_SELF_RELATIVE).to_le_bytes());
    sd.extend_from_slice(&owner_offset.to_le_bytes());
    sd.extend_from_slice(&0u32.to_le_bytes()); // group
    sd.extend_from_slice(&0u32.to_le_bytes()); // SACL
    sd.extend_from_slice(&dacl_offset.to_le_bytes());
    sd.extend_from_slice(&owner);
    sd.push(ACL_REVISION);
    sd.push(0);
    sd.extend_from_slice(&(acl_size as u16).to_le_bytes());
    sd.extend_from_slice(&(principal_sids.len() as u16).to_le_bytes());
    sd.extend_from_slice(&0u16.to_le_bytes());
    sd.extend_from_slice(&aces);
    Ok(sd)
}

fn u16_at(b: &[u8], o: usize) -> Result<u16, String> {
    b.get(o..o + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(|| "truncated security descriptor".to_owned())
}

fn u32_at(b: &[u8], o: usize) -> Result<u32, String> {
    b.get(o..o + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| "truncated security descriptor".to_owned())
}

fn sid_at(b: &[u8], o: usize) -> Result<String, String> {
    let count = *b.get(o + 1).ok_or("truncated SID")? as usize;
    let sid = b.get(o..o + 8 + 4 * count).ok_or("truncated SID")?;
    sid_to_string(sid)
}

/// Read the owner and the access-allowed entries of a self-relative security descriptor
/// (other ACE types are skipped; a missing DACL gives no entries).
pub fn parse_sd(b: &[u8]) -> Result<(Option<String>, Vec<AllowedAce>), String> {
    if b.len() < 20 || b[0] != 1 {
        return Err("not a self-relative security descriptor".into());
    }
    let control = u16_at(b, 2)?;
    if control & SE_SELF_RELATIVE == 0 {
        return Err("security descriptor is not self-relative".into());
    }
    let owner_off = u32_at(b, 4)? as usize;
    let dacl_off = u32_at(b, 16)? as usize;
    let owner = if owner_off != 0 {
        Some(sid_at(b, owner_off)?)
    } else {
        None
    };
    let mut aces = Vec::new();
    if control & SE_DACL_PRESENT != 0 && dacl_off != 0 {
        let count = u16_at(b, dacl_off + 4)? as usize;
        let mut o = dacl_off + 8;
        for _ in 0..count {
            let ace_type = *b.get(o).ok_or("truncated ACE")?;
            let size = u16_at(b, o + 2)? as usize;
            if size < 8 {
                return Err("malformed ACE".into());
            }
            if ace_type == ACCESS_ALLOWED_ACE_TYPE {
                aces.push(AllowedAce {
                    mask: u32_at(b, o + 4)?,
                    sid: sid_at(b, o + 8)?,
                });
            }
            o += size;
        }
    }
    Ok((owner, aces))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sid_round_trip_and_layout() {
        // S-1-5-21-702590844-1001920913-2680819671 as AD stores it.
        let s = "S-1-5-21-702590844-1001920913-2680819671";
        let b = sid_from_string(s).unwrap();
        assert_eq!(&b[..8], &[1, 4, 0, 0, 0, 0, 0, 5]);
        assert_eq!(&b[8..12], &21u32.to_le_bytes());
        assert_eq!(&b[12..16], &702590844u32.to_le_bytes());
        assert_eq!(sid_to_string(&b).unwrap(), s);
        assert_eq!(
            sid_to_string(&[1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0]).unwrap(),
            "S-1-5-32-544"
        );
        assert!(sid_to_string(&[1, 4, 0, 0, 0, 0, 0, 5]).is_err());
        assert!(sid_to_string(&[2, 0, 0, 0, 0, 0, 0, 5]).is_err());
        assert!(sid_from_string("S-1-5-x").is_err());
        assert!(sid_from_string("X-1-5-21").is_err());
    }

    #[test]
    fn guid_groups_are_little_endian() {
        // 56d9b66c-d746-4f87-bd26-26760cfdca2e as objectGUID bytes.
        let b = [
            0x6c, 0xb6, 0xd9, 0x56, 0x46, 0xd7, 0x87, 0x4f, 0xbd, 0x26, 0x26, 0x76, 0x0c, 0xfd,
            0xca, 0x2e,
        ];
        assert_eq!(
            guid_to_string(&b).unwrap(),
            "56d9b66c-d746-4f87-bd26-26760cfdca2e"
        );
        assert!(guid_to_string(&b[..15]).is_err());
    }

    #[test]
    fn filter_and_dn_escaping() {
        assert_eq!(filter_str("a*(b)\\"), "a\\2a\\28b\\29\\5c");
        assert_eq!(filter_bytes(&[1, 0xab]), "\\01\\ab");
        assert_eq!(dn_value("Smith, John"), "Smith\\, John");
        assert_eq!(dn_value(" x "), "\\ x\\ ");
    }

    #[test]
    fn filetime() {
        // 2020-01-01T00:00:00Z
        assert_eq!(filetime_to_unix(132_223_104_000_000_000), 1_577_836_800);
    }

    #[test]
    fn membership_sd_matches_windows_layout_and_parses_back() {
        let sids = vec![
            "S-1-5-21-1-2-3-1105".to_owned(),
            "S-1-5-21-1-2-3-512".to_owned(),
        ];
        let sd = gmsa_membership_sd(&sids).unwrap();
        // Header: revision 1, control DACL_PRESENT|SELF_RELATIVE, owner right after it.
        assert_eq!(&sd[..4], &[1, 0, 0x04, 0x80]);
        assert_eq!(u32_at(&sd, 4).unwrap(), 20);
        assert_eq!(u32_at(&sd, 8).unwrap(), 0);
        assert_eq!(u32_at(&sd, 12).unwrap(), 0);
        assert_eq!(u32_at(&sd, 16).unwrap(), 20 + 16);
        // ACL: revision 2, size = 8 + 2 * (8 + 28), 2 ACEs.
        assert_eq!(sd[36], 2);
        assert_eq!(u16_at(&sd, 38).unwrap(), 8 + 2 * 36);
        assert_eq!(u16_at(&sd, 40).unwrap(), 2);
        assert_eq!(sd.len(), 36 + 8 + 72);
        let (owner, aces) = parse_sd(&sd).unwrap();
        assert_eq!(owner.as_deref(), Some(BUILTIN_ADMINISTRATORS));
        assert_eq!(
            aces,
            sids.iter()
                .map(|s| AllowedAce {
                    sid: s.clone(),
                    mask: 0xf01ff
                })
                .collect::<Vec<_>>()
        );
        assert!(parse_sd(&sd[..30]).is_err());
        assert!(gmsa_membership_sd(&["nope".into()]).is_err());
    }
}
