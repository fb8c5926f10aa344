//! Timestamps as the model sees them (RFC 3339, UTC) and parsing of the time filters the file
//! tools accept (`2024-05-01`, `2024-05-01T12:00:00Z`, or an age such as `7d` or `2h`).

use std::time::{Duration, SystemTime};

/// RFC 3339 in UTC with second precision, e.g. `2026-11-22T08:30:00Z`.
/// Whole seconds since the Unix epoch (0 before it), as file status times count them.
pub fn unix_secs(t: SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Parses a point in time given as an RFC 3339 timestamp, a bare date (midnight UTC), or an age
/// relative to `now` (`30m`, `2h`, `7d`, `1w`: that long ago).
pub fn parse_point(input: &str, now: SystemTime) -> Result<SystemTime, String> {
    let s = input.trim();
    if let Ok(t) = humantime::parse_rfc3339_weak(s) {
        return Ok(t);
    }
    if s.len() == 10
        && let Ok(t) = humantime::parse_rfc3339_weak(&format!("{s}T00:00:00Z"))
    {
        return Ok(t);
    }
    if let Some(age) = parse_age(s) {
        return now
            .checked_sub(age)
            .ok_or_else(|| format!("`{input}` reaches before the epoch"));
    }
    Err(format!(
        "`{input}` is not a time: use RFC 3339 (2024-05-01T12:00:00Z), a date (2024-05-01) or an age (30m, 2h, 7d, 1w)"
    ))
}

fn parse_age(s: &str) -> Option<Duration> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = digits.parse().ok()?;
    let secs = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(n.checked_mul(secs)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_three_forms() {
        let now = humantime::parse_rfc3339("2026-01-10T00:00:00Z").unwrap();
        assert_eq!(
            parse_point("2026-01-09", now).unwrap(),
            humantime::parse_rfc3339("2026-01-09T00:00:00Z").unwrap()
        );
        assert_eq!(
            parse_point("2026-01-09T12:00:00Z", now).unwrap(),
            humantime::parse_rfc3339("2026-01-09T12:00:00Z").unwrap()
        );
        assert_eq!(
            parse_point("1d", now).unwrap(),
            humantime::parse_rfc3339("2026-01-09T00:00:00Z").unwrap()
        );
        assert!(
            parse_point("yesterday", now)
                .unwrap_err()
                .contains("RFC 3339")
        );
    }
}
