//! Prefixed random identifiers (`usr_…`, `ten_…`): the prefix tells a reader what an id is for,
//! and random ids reveal nothing about how many objects exist.

use rand::{distributions::Alphanumeric, Rng};

pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_string(22))
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
}
