//! Per-endpoint stats. Every attempt adds one to an hourly rollup row (in the transaction that
//! records the attempt), so a 30-day view reads at most 720 small rows per endpoint however many
//! deliveries there were. Latency percentiles come from a fixed histogram in the same row.

use types::DeliveryStatus;

use crate::clock::{rfc3339, Millis, DAY, HOUR};
use crate::error::{Error, Result};
use crate::health::FailureClass;
use crate::{on_pool, Herald};

/// Upper bounds of the latency histogram buckets (`lat_00` … `lat_13`); `lat_14` counts the rest.
pub const LATENCY_BOUNDS_MS: [i64; 14] = [10, 25, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2000, 5000, 10000];
const BUCKETS: usize = LATENCY_BOUNDS_MS.len() + 1;

pub use types::stats::{Bar, EndpointStats, FailureReason, LastDelivery, Window};

/// The window named `value` (`24h`, `7d` or `30d`).
pub fn window(value: &str) -> Result<Window> {
    Window::parse(value).ok_or_else(|| Error::invalid("window", "window is one of 24h, 7d, 30d."))
}

/// Chart bars: their width and how many.
fn bars(window: Window) -> (Millis, i64) {
    match window {
        Window::Day => (HOUR, 24),
        Window::Week => (6 * HOUR, 28),
        Window::Month => (DAY, 30),
    }
}

/// How one attempt ended, for the rollup.
pub(crate) struct Outcome {
    pub succeeded: bool,
    pub gave_up: bool,
    pub duration_ms: i64,
}

fn latency_bucket(duration_ms: i64) -> usize {
    LATENCY_BOUNDS_MS.iter().position(|&bound| duration_ms <= bound).unwrap_or(LATENCY_BOUNDS_MS.len())
}

/// Attempts of one endpoint in one hour, added to its rollup row in one statement.
#[derive(Default)]
pub(crate) struct Tally {
    sent: i64,
    succeeded: i64,
    failed: i64,
    gave_up: i64,
    latency: [i64; BUCKETS],
}

impl Tally {
    pub fn add(&mut self, outcome: &Outcome) {
        self.sent += 1;
        self.succeeded += outcome.succeeded as i64;
        self.failed += !outcome.succeeded as i64;
        self.gave_up += outcome.gave_up as i64;
        self.latency[latency_bucket(outcome.duration_ms)] += 1;
    }
}

/// The hour an attempt at `at` is counted in.
pub(crate) fn hour_of(at: Millis) -> Millis {
    at - at.rem_euclid(HOUR)
}

/// Binds of one rollup row in [`upsert_sql`]: endpoint, hour, then the tally's counts.
const ROLLUP_BINDS: usize = 2 + 4 + BUCKETS;

/// Adds `rows` tallies to their endpoints' hourly rows, in one statement whose placeholders start
/// at `$first` (each row: endpoint id, hour, then [`Tally::counts`]). An endpoint deleted while
/// its attempt was in flight is left out: its row would fail the whole group.
pub(crate) fn upsert_sql(first: usize, rows: usize) -> String {
    let lat: Vec<String> = (0..BUCKETS).map(|b| format!("lat_{b:02}")).collect();
    let add: Vec<String> = lat.iter().map(|c| format!("{c} = endpoint_stats.{c} + excluded.{c}")).collect();
    format!(
        "INSERT INTO endpoint_stats (endpoint_id, hour, sent, succeeded, failed, gave_up, {})
         SELECT v.* FROM (VALUES {}) AS v WHERE EXISTS (SELECT 1 FROM endpoints e WHERE e.id = v.column1)
         ON CONFLICT (endpoint_id, hour) DO UPDATE SET sent = endpoint_stats.sent + excluded.sent,
             succeeded = endpoint_stats.succeeded + excluded.succeeded, failed = endpoint_stats.failed + excluded.failed,
             gave_up = endpoint_stats.gave_up + excluded.gave_up, {}",
        lat.join(", "),
        crate::store::query::value_rows(first, rows, ROLLUP_BINDS),
        add.join(", ")
    )
}

impl Tally {
    /// Sent, succeeded, failed, gave up, then the latency buckets, as [`upsert_sql`] binds them.
    pub fn counts(&self) -> impl Iterator<Item = i64> + '_ {
        [self.sent, self.succeeded, self.failed, self.gave_up].into_iter().chain(self.latency)
    }
}

/// The `p`th percentile (0–1) of a histogram, interpolated inside its bucket.
pub fn percentile(histogram: &[i64; BUCKETS], p: f64) -> Option<i64> {
    let total: i64 = histogram.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = (p * total as f64).ceil().max(1.0);
    let mut seen = 0.0;
    for (i, &count) in histogram.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let lower = if i == 0 { 0 } else { LATENCY_BOUNDS_MS[i - 1] };
        if seen + count as f64 >= rank {
            let Some(&upper) = LATENCY_BOUNDS_MS.get(i) else { return Some(lower) };
            let share = (rank - seen) / count as f64;
            return Some(lower + ((upper - lower) as f64 * share).round() as i64);
        }
        seen += count as f64;
    }
    None
}

type RollupRow = (Millis, i64, i64, i64, i64, [i64; BUCKETS]);

impl Herald {
    pub async fn endpoint_stats(&self, tenant_id: &str, endpoint_id: &str, window: Window) -> Result<EndpointStats> {
        self.endpoint_row(tenant_id, endpoint_id).await?;
        let (width, count) = bars(window);
        let now = self.clock.now();
        let first = now - now.rem_euclid(width) - (count - 1) * width;
        let lat: Vec<String> = (0..BUCKETS).map(|i| format!("lat_{i:02}")).collect();
        let sql = format!(
            "SELECT hour, sent, succeeded, failed, gave_up, {} FROM endpoint_stats WHERE endpoint_id = $1 AND hour >= $2 ORDER BY hour",
            lat.join(", ")
        );
        let rows: Vec<RollupRow> = on_pool!(&self.store, pool => {
            use sqlx::Row;
            sqlx::query(&sql).bind(endpoint_id).bind(first).fetch_all(pool).await.and_then(|rows| {
                rows.iter().map(|r| {
                    let mut histogram = [0i64; BUCKETS];
                    for (i, slot) in histogram.iter_mut().enumerate() {
                        *slot = r.try_get(5 + i)?;
                    }
                    Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, histogram))
                }).collect()
            })
        })?;

        let mut bars: Vec<Bar> = (0..count)
            .map(|i| {
                let start_ms = first + i * width;
                Bar { start: rfc3339(start_ms), start_ms, succeeded: 0, failed: 0 }
            })
            .collect();
        let (mut sent, mut succeeded, mut failed, mut gave_up) = (0, 0, 0, 0);
        let mut histogram = [0i64; BUCKETS];
        for (hour, s, ok, bad, given_up, lat) in rows {
            sent += s;
            succeeded += ok;
            failed += bad;
            gave_up += given_up;
            for (total, n) in histogram.iter_mut().zip(lat) {
                *total += n;
            }
            if let Some(bar) = bars.get_mut(((hour - first) / width) as usize) {
                bar.succeeded += ok;
                bar.failed += bad;
            }
        }
        let last_delivery = on_pool!(&self.store, pool => sqlx::query_as::<_, (String, DeliveryStatus, Option<i64>, Option<String>, i64)>(
            "SELECT id, status, last_status_code, last_error, created_at FROM deliveries
             WHERE endpoint_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1")
            .bind(endpoint_id).fetch_optional(pool).await)?
        .map(|(id, status, status_code, error, at)| LastDelivery { id, status, status_code, error, created_at: rfc3339(at) });

        let reasons: Vec<(String, i64)> = on_pool!(&self.store, pool => sqlx::query_as(
            "SELECT a.failure_class, COUNT(*) FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
             WHERE d.endpoint_id = $1 AND d.created_at >= $3 AND a.attempted_at >= $2 AND a.failure_class IS NOT NULL
             GROUP BY a.failure_class ORDER BY COUNT(*) DESC, a.failure_class")
            // Retries end within an hour of the delivery's creation: the bound lets the index work.
            .bind(endpoint_id).bind(first).bind(first - DAY).fetch_all(pool).await)?;
        let failure_reasons = reasons
            .into_iter()
            .filter_map(|(class, count)| {
                let class = FailureClass::parse(&class)?;
                Some(FailureReason::new(class, count))
            })
            .collect();

        Ok(EndpointStats {
            window,
            failure_reasons,
            sent,
            succeeded,
            failed,
            gave_up,
            success_rate: (sent > 0).then(|| succeeded as f64 / sent as f64),
            latency_p50_ms: percentile(&histogram, 0.50),
            latency_p95_ms: percentile(&histogram, 0.95),
            last_delivery,
            bar_seconds: width / 1000,
            bars,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_lands_in_the_first_bucket_that_holds_it() {
        assert_eq!(latency_bucket(0), 0);
        assert_eq!(latency_bucket(10), 0);
        assert_eq!(latency_bucket(11), 1);
        assert_eq!(latency_bucket(10_000), 13);
        assert_eq!(latency_bucket(60_000), 14);
    }

    #[test]
    fn percentiles_interpolate_within_a_bucket() {
        let mut h = [0i64; BUCKETS];
        assert_eq!(percentile(&h, 0.5), None);
        h[4] = 100; // 100 attempts between 75 and 100 ms
        assert_eq!(percentile(&h, 0.5), Some(88));
        assert_eq!(percentile(&h, 0.95), Some(99));
        h[14] = 100; // and 100 slower than 10 s
        assert_eq!(percentile(&h, 0.5), Some(100));
        assert_eq!(percentile(&h, 0.95), Some(10_000));
    }
}
