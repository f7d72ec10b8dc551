//! Property tests (proptest) of the binary forms read from Active Directory: SIDs, GUIDs
//! and the gMSA's security descriptor. Arbitrary bytes never make a decoder panic, and what
//! decodes encodes back to the same bytes. cargo-fuzz would need a nightly toolchain, which
//! this project does not assume: for a longer run, raise the case count, e.g.
//! `PROPTEST_CASES=100000 cargo test -p gmsa --test codec` (CI runs the default 256).

use gmsa::directory::codec;
use gmsa::names;
use proptest::prelude::*;

fn sid_text(authority: u64, subs: &[u32]) -> String {
    let mut s = format!("S-1-{authority}");
    for sub in subs {
        s.push_str(&format!("-{sub}"));
    }
    s
}

proptest! {
    #[test]
    fn sids_round_trip(authority in 0u64..(1 << 48), subs in prop::collection::vec(any::<u32>(), 0..=15)) {
        let text = sid_text(authority, &subs);
        let bytes = codec::sid_from_string(&text).unwrap();
        prop_assert_eq!(bytes.len(), 8 + 4 * subs.len());
        prop_assert_eq!(codec::sid_to_string(&bytes).unwrap(), text);
    }

    #[test]
    fn sid_decoder_never_panics_and_what_it_reads_encodes_back(b in prop::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(text) = codec::sid_to_string(&b) {
            prop_assert_eq!(codec::sid_from_string(&text).unwrap(), b);
        }
    }

    #[test]
    fn well_formed_sid_bytes_always_decode(count in 0u8..=15, authority in any::<[u8; 6]>(), tail in prop::collection::vec(any::<u8>(), 60)) {
        let mut b = vec![1u8, count];
        b.extend_from_slice(&authority);
        b.extend_from_slice(&tail[..4 * count as usize]);
        let text = codec::sid_to_string(&b).unwrap();
        prop_assert!(text.starts_with("S-1-"));
        prop_assert_eq!(codec::sid_from_string(&text).unwrap(), b);
    }

    #[test]
    fn sid_parser_never_panics(s in "[Ss]-1-[0-9]{1,16}(-[0-9]{1,11}){0,17}|[Ss0-9-]{0,30}|.{0,40}") {
        if let Ok(bytes) = codec::sid_from_string(&s) {
            let text = codec::sid_to_string(&bytes).unwrap();
            prop_assert_eq!(codec::sid_from_string(&text).unwrap(), bytes);
        }
    }

    #[test]
    fn guids_decode_exactly_sixteen_bytes(b in prop::collection::vec(any::<u8>(), 0..40)) {
        match codec::guid_to_string(&b) {
            Ok(text) => {
                prop_assert_eq!(b.len(), 16);
                prop_assert_eq!(text.len(), 36);
                prop_assert!(text.chars().all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
            }
            Err(_) => prop_assert_ne!(b.len(), 16),
        }
    }

    #[test]
    fn guids_round_trip_through_the_string_form(b in any::<[u8; 16]>()) {
        // objectGUID stores the first three groups little-endian; the string is in reading order.
        let text = codec::guid_to_string(&b).unwrap();
        let read = names::parse_guid(&text).unwrap();
        let mut back = read;
        back[0..4].reverse();
        back[4..6].reverse();
        back[6..8].reverse();
        prop_assert_eq!(back, b);
    }

    #[test]
    fn guid_parser_never_panics_on_multibyte_text(s in "[0-9a-fé€𝄞-]{30,40}") {
        let _ = names::parse_guid(&s);
    }

    #[test]
    fn security_descriptor_reader_never_panics(b in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = codec::parse_sd(&b);
    }

    #[test]
    fn membership_descriptors_read_back(subs in prop::collection::vec(prop::collection::vec(any::<u32>(), 1..6), 1..5)) {
        let sids: Vec<String> = subs.iter().map(|s| sid_text(5, s)).collect();
        let sd = codec::gmsa_membership_sd(&sids).unwrap();
        let (owner, aces) = codec::parse_sd(&sd).unwrap();
        prop_assert_eq!(owner.as_deref(), Some(codec::BUILTIN_ADMINISTRATORS));
        let read: Vec<String> = aces.iter().map(|a| a.sid.clone()).collect();
        prop_assert_eq!(read, sids);
        prop_assert!(aces.iter().all(|a| a.mask == codec::GMSA_MEMBERSHIP_MASK));
    }
}

/// Regression: a GUID string with a multi-byte character at an odd byte offset made the
/// parser slice inside the character and panic.
#[test]
fn a_guid_with_a_multibyte_character_is_an_error_not_a_panic() {
    let s = "aééxyz-0000-0000-0000-000000000000";
    assert_eq!(s.split('-').next().unwrap().len(), 8);
    assert!(names::parse_guid(s).is_err());
}

/// A SID claiming more than 15 sub-authorities is not one (and would not encode back).
#[test]
fn a_sid_with_sixteen_sub_authorities_is_refused() {
    let mut b = vec![1u8, 16, 0, 0, 0, 0, 0, 5];
    b.extend(std::iter::repeat_n(0u8, 64));
    assert!(codec::sid_to_string(&b).is_err());
}
