//! Times as Herald shows them: epoch milliseconds in, UTC text out, the same on the server and
//! in the browser.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn at(ms: i64) -> OffsetDateTime {
    let t = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    t.replace_nanosecond(0).unwrap_or(t)
}

/// `2026-01-01T10:00:00Z`, whole seconds: what the JSON API sends.
pub fn rfc3339(ms: i64) -> String {
    at(ms).format(&Rfc3339).unwrap_or_default()
}

/// `2026-01-01 10:00:00` (UTC): what the dashboard shows.
pub fn utc(ms: i64) -> String {
    shown(&rfc3339(ms))
}

/// An RFC 3339 time as the dashboard shows it: `2026-01-01 10:00:00` (UTC).
pub fn shown(rfc3339: &str) -> String {
    rfc3339.replace('T', " ").trim_end_matches('Z').to_string()
}

/// `2026-01-01` (UTC).
pub fn date(ms: i64) -> String {
    rfc3339(ms).get(..10).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_read_in_utc_to_the_second() {
        let ms = 1_767_261_600_999; // 2026-01-01T10:00:00.999Z
        assert_eq!(super::rfc3339(ms), "2026-01-01T10:00:00Z");
        assert_eq!(super::utc(ms), "2026-01-01 10:00:00");
        assert_eq!(super::date(ms), "2026-01-01");
    }
}
