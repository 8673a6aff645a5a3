//! The mail Herald sent: with no SMTP server configured (tests never have one), each message is
//! a file in the data directory's outbox.

use super::app::TestApp;

impl TestApp {
    /// Files in the email outbox, as text.
    pub fn outbox(&self) -> Vec<String> {
        self.outbox_files().into_iter().map(|(_, m)| m).collect()
    }

    /// The token of the newest sign-up link mailed to `email`.
    pub fn sign_up_token(&self, email: &str) -> Option<String> {
        let marker = format!("{}/signup/confirm/", self.base);
        let to = format!("to: {}", email.trim().to_lowercase());
        let mut mails: Vec<(std::path::PathBuf, String)> =
            self.outbox_files().into_iter().filter(|(_, m)| m.to_lowercase().contains(&to)).collect();
        mails.sort();
        mails
            .iter()
            .rev()
            .find_map(|(_, m)| m.split(&marker).nth(1).map(|rest| rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect()))
    }

    /// The outbox's files (named by the time they were written) with their text.
    fn outbox_files(&self) -> Vec<(std::path::PathBuf, String)> {
        let dir = self.data_dir.0.join("outbox");
        let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
        entries
            .filter_map(|e| {
                let path = e.ok()?.path();
                let text = std::fs::read_to_string(&path).ok()?;
                Some((path, decode_quoted_printable(&text)))
            })
            .collect()
    }
}

/// Undoes quoted-printable (soft line breaks and `=XX`), as a mail client would.
fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
