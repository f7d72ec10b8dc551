//! The one parser of durations on the command line (`--request-timeout`, `--timeout`,
//! `--cert-validity`): kubectl's forms, a bare number of seconds or Go-style units such as
//! `90s`, `5m`, `2m30s`, `1h`.

/// `0`, `90` (seconds), `90s`, `5m`, `2m30s`, `1h`, `1h30m`, `500ms` (rounded up to whole
/// seconds) -> seconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let bad = || {
        format!("\"{s}\" is not a duration: use a number of seconds, or units such as 30s, 5m, 2m30s or 1h")
    };
    let t = s.trim();
    if t.is_empty() {
        return Err(bad());
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().map_err(|_| bad());
    }
    let mut millis: u128 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let (n, after) = split_unit(rest).map_err(|_| bad())?;
        let at = after
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(at);
        let scale: u128 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return Err(bad()),
        };
        millis = millis.checked_add(u128::from(n) * scale).ok_or_else(bad)?;
        rest = next;
    }
    u64::try_from(millis.div_ceil(1_000)).map_err(|_| bad())
}

/// `365d`, `8760h`, `365` (days) -> days.
pub fn parse_days(s: &str) -> Result<u64, String> {
    let (n, unit) = split_unit(s)?;
    let days = match unit {
        "" | "d" => n,
        "h" if n % 24 == 0 => n / 24,
        "h" => return Err(format!("\"{s}\" is not a whole number of days")),
        _ => {
            return Err(format!(
                "\"{s}\" is not a validity: use days or hours, such as 365d or 8760h"
            ))
        }
    };
    Ok(days)
}

fn split_unit(s: &str) -> Result<(u64, &str), String> {
    let s = s.trim();
    let at = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n = s[..at]
        .parse::<u64>()
        .map_err(|_| format!("\"{s}\" does not start with a number"))?;
    Ok((n, &s[at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_request_timeouts() {
        assert_eq!(parse_duration("0").unwrap(), 0);
        assert_eq!(parse_duration("0s").unwrap(), 0);
        assert_eq!(parse_duration("90").unwrap(), 90);
        assert_eq!(parse_duration("5s").unwrap(), 5);
        assert_eq!(parse_duration("1m").unwrap(), 60);
        assert_eq!(parse_duration("5m").unwrap(), 300);
        assert_eq!(parse_duration("2m30s").unwrap(), 150);
        assert_eq!(parse_duration("1h").unwrap(), 3600);
        assert_eq!(parse_duration("1h30m").unwrap(), 5400);
        assert_eq!(parse_duration("1500ms").unwrap(), 2);
        for bad in [
            "",
            "5x",
            "m",
            "5m3",
            "1.5h",
            "-1s",
            "s5",
            "5 m",
            "99999999999999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} is refused");
        }
    }

    #[test]
    fn validity_in_days() {
        assert_eq!(parse_days("365d").unwrap(), 365);
        assert_eq!(parse_days("365").unwrap(), 365);
        assert_eq!(parse_days("8760h").unwrap(), 365);
        assert!(parse_days("25h").is_err());
        assert!(parse_days("1y").is_err());
    }
}
