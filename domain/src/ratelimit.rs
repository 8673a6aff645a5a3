//! Sign-in and sign-up throttling, counted in the database so that every web process shares
//! the counts.
//!
//! Sign-in failures stop an address (30 per 15 minutes) and an address on one account (5 per
//! 15 minutes) outright: "try again in N minutes". Across addresses an account is only slowed
//! down, never locked: after 5 failures each address waits a growing delay (2 s, 4 s, … at most
//! a minute) before its next try. An address told to wait keeps its turn even if others fail
//! meanwhile, so the owner, from an address of their own, gets in after at most that minute.

use crate::clock::{Millis, HOUR, MINUTE, SECOND};
use crate::error::{Error, Result};
use crate::{execute_on, on_pool, Herald};

pub const WINDOW: Millis = 15 * MINUTE;
pub const MAX_PER_ADDRESS: usize = 30;
pub const MAX_PER_ACCOUNT_AND_ADDRESS: usize = 5;
/// Failures on an account (from any address) before each try has to wait.
pub const FREE_FAILURES: usize = 5;
pub const MAX_DELAY: Millis = MINUTE;
pub const SIGN_UP_WINDOW: Millis = HOUR;
pub const SIGN_UPS_PER_ADDRESS: usize = 10;
/// Sign-up emails (links or notices) one address receives per hour; more are not sent.
pub const SIGN_UP_MAILS_PER_EMAIL: usize = 3;

const FAILED: &str = "sign_in_failed";
const TURN: &str = "sign_in_turn";
const SIGN_UP: &str = "sign_up";

/// Whose events to count.
#[derive(Clone, Copy)]
enum Key<'a> {
    Address(&'a str),
    Account(&'a str),
    Both(&'a str, &'a str),
}

/// The wait after `failures` recent failures on an account: none for the first few, then
/// doubling from 2 s up to [`MAX_DELAY`].
pub fn delay_after(failures: usize) -> Millis {
    if failures < FREE_FAILURES {
        return 0;
    }
    let exponent = (failures - FREE_FAILURES + 1).min(16) as u32;
    (SECOND << exponent).min(MAX_DELAY)
}

fn try_again(what: &str, wait: Millis) -> Error {
    let (n, unit) =
        if wait < MINUTE { (((wait + SECOND - 1) / SECOND).max(1), "second") } else { ((wait + MINUTE - 1) / MINUTE, "minute") };
    Error::RateLimited(format!("{what} Try again in {n} {unit}{}.", if n == 1 { "" } else { "s" }))
}

impl Herald {
    /// The newest `limit` event times of `kind` for `key` after `since`, newest first.
    async fn recent(&self, kind: &str, key: Key<'_>, since: Millis, limit: usize) -> Result<Vec<Millis>> {
        let (filter, values) = match key {
            Key::Address(address) => ("address = $2", [address, ""]),
            Key::Account(account) => ("account = $2", [account, ""]),
            Key::Both(account, address) => ("account = $2 AND address = $3", [account, address]),
        };
        let n = if matches!(key, Key::Both(..)) { 2 } else { 1 };
        let sql = format!("SELECT at FROM auth_events WHERE kind = $1 AND {filter} AND at > ${} ORDER BY at DESC LIMIT ${}", n + 2, n + 3);
        let rows: Vec<(i64,)> = on_pool!(&self.store, pool => {
            let mut query = sqlx::query_as(&sql).bind(kind);
            for value in &values[..n] {
                query = query.bind(*value);
            }
            query.bind(since).bind(limit as i64).fetch_all(pool).await
        })?;
        Ok(rows.into_iter().map(|(at,)| at).collect())
    }

    async fn record(&self, kind: &str, account: &str, address: &str, at: Millis) -> Result<()> {
        let _turn = self.store.write_turn().await;
        execute_on!(
            &self.store,
            sqlx::query("INSERT INTO auth_events (kind, account, address, at) VALUES ($1, $2, $3, $4)")
                .bind(kind)
                .bind(account)
                .bind(address)
                .bind(at)
        )?;
        // Nothing older than an hour is ever counted: drop it as new events come.
        execute_on!(&self.store, sqlx::query("DELETE FROM auth_events WHERE at < $1").bind(self.clock.now() - HOUR))?;
        Ok(())
    }

    /// Refuses a sign-in attempt (429) while `address`, or `address` on `account`, is blocked,
    /// or while `account` makes this address wait.
    pub(crate) async fn check_sign_in(&self, account: &str, address: &str, now: Millis) -> Result<()> {
        let since = now - WINDOW;
        let stopped = "Too many failed sign-in attempts.";
        for (key, max) in [(Key::Address(address), MAX_PER_ADDRESS), (Key::Both(account, address), MAX_PER_ACCOUNT_AND_ADDRESS)] {
            let failures = self.recent(FAILED, key, since, max).await?;
            if failures.len() >= max {
                return Err(try_again(stopped, failures[max - 1] + WINDOW - now));
            }
        }
        let failures = self.recent(FAILED, Key::Account(account), since, FREE_FAILURES + 8).await?;
        let delay = delay_after(failures.len());
        if delay == 0 {
            return Ok(());
        }
        let own_failure = self.recent(FAILED, Key::Both(account, address), since, 1).await?.first().map(|at| at + delay);
        let turn = self.recent(TURN, Key::Both(account, address), since, 1).await?.first().copied();
        // An address that has not tried yet waits for the account's latest failure to age,
        // and is given its turn: failures elsewhere do not push it back.
        let ready = own_failure.max(turn).unwrap_or(failures[0] + delay);
        if now >= ready {
            return Ok(());
        }
        if own_failure.is_none() && turn.is_none() {
            self.record(TURN, account, address, ready).await?;
        }
        Err(try_again("Too many failed sign-in attempts for this account.", ready - now))
    }

    /// Counted before the password is checked, so that parallel guesses cannot all slip in
    /// before the first is recorded; [`Herald::forgive_sign_in`] takes it back on success.
    pub(crate) async fn record_sign_in_attempt(&self, account: &str, address: &str, now: Millis) -> Result<()> {
        self.record(FAILED, account, address, now).await
    }

    /// The right password from this address: its failures on the account no longer count.
    pub(crate) async fn forgive_sign_in(&self, account: &str, address: &str) -> Result<()> {
        let _turn = self.store.write_turn().await;
        execute_on!(
            &self.store,
            sqlx::query("DELETE FROM auth_events WHERE kind IN ($1, $2) AND account = $3 AND address = $4")
                .bind(FAILED)
                .bind(TURN)
                .bind(account)
                .bind(address)
        )?;
        Ok(())
    }

    /// Refuses a sign-up (429) from an address that made too many in the last hour.
    pub(crate) async fn check_sign_up(&self, address: &str, now: Millis) -> Result<()> {
        let recent = self.recent(SIGN_UP, Key::Address(address), now - SIGN_UP_WINDOW, SIGN_UPS_PER_ADDRESS).await?;
        if recent.len() >= SIGN_UPS_PER_ADDRESS {
            return Err(try_again("Too many sign-ups from your address.", recent[SIGN_UPS_PER_ADDRESS - 1] + SIGN_UP_WINDOW - now));
        }
        Ok(())
    }

    /// Records a sign-up; false when its email already got its share of mail this hour.
    pub(crate) async fn record_sign_up(&self, email: &str, address: &str, now: Millis) -> Result<bool> {
        let mailed = self.recent(SIGN_UP, Key::Account(email), now - SIGN_UP_WINDOW, SIGN_UP_MAILS_PER_EMAIL).await?;
        self.record(SIGN_UP, email, address, now).await?;
        Ok(mailed.len() < SIGN_UP_MAILS_PER_EMAIL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_and_is_capped() {
        let delays: Vec<Millis> = (0..13).map(|n| delay_after(n) / SECOND).collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(delay_after(10_000), MAX_DELAY);
    }

    #[test]
    fn waits_are_said_in_whole_units() {
        let message = |wait| try_again("Stop.", wait).to_string();
        assert_eq!(message(1), "Stop. Try again in 1 second.");
        assert_eq!(message(2 * SECOND), "Stop. Try again in 2 seconds.");
        assert_eq!(message(60 * SECOND), "Stop. Try again in 1 minute.");
        assert_eq!(message(14 * MINUTE + 1), "Stop. Try again in 15 minutes.");
    }
}
