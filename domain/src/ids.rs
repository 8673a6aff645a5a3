//! Prefixed identifiers (`usr_…`, `ten_…`): the prefix tells a reader what an id is for. An id
//! is its creation time (milliseconds, 9 base-36 characters) and then 13 random characters:
//! ids made later sort after, so a new row lands on the last page of every index on ids (a
//! random id dirtied a random page per row, written out again at every commit), and the random
//! part still reveals nothing about how many objects exist.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::{distributions::Alphanumeric, Rng};

pub fn new_id(prefix: &str) -> String {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    format!("{prefix}_{}{}", base36(millis, 9), random_string(13))
}

/// `n` in `width` base-36 digits (`0-9a-z`, in this order in ASCII and in every collation),
/// zero-padded on the left, so ids sort as their times do. 9 digits last until the year 5188.
fn base36(mut n: u64, width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut digits = vec![b'0'; width];
    for digit in digits.iter_mut().rev() {
        *digit = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8(digits).expect("ASCII digits")
}

/// A URL-safe random string of `len` alphanumerics (~5.95 bits each), from the thread's
/// CSPRNG (ChaCha, seeded and reseeded from the OS): as unpredictable as `OsRng`, without a
/// system call per character (ingest makes three ids an event).
pub fn random_string(len: usize) -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_carry_their_prefix_and_differ() {
        let a = super::new_id("usr");
        let b = super::new_id("usr");
        assert!(a.starts_with("usr_") && a.len() == 26);
        assert_ne!(a, b);
    }

    #[test]
    fn ids_made_later_sort_after() {
        let earlier = super::new_id("dlv");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let later = super::new_id("dlv");
        assert!(earlier < later, "{earlier} then {later}");
        assert_eq!(super::base36(0, 9), "000000000");
        assert_eq!(super::base36(36 * 36 + 35, 3), "10z");
    }
}
