//! Outgoing email: SMTP when `HERALD_SMTP_URL` is set, otherwise `.eml` files in the outbox
//! folder (so a fresh install, and the tests, can read what would have been sent).

use std::path::PathBuf;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::error::{Error, Result};

#[derive(Clone)]
pub enum Mailer {
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, from: Mailbox },
    Outbox { dir: PathBuf, from: Mailbox },
}

impl Mailer {
    pub fn new(smtp_url: Option<&str>, outbox: PathBuf, from: &str) -> Result<Mailer> {
        let from: Mailbox = from.parse().map_err(|e| Error::internal("HERALD_MAIL_FROM", e))?;
        Ok(match smtp_url {
            Some(url) => {
                let transport =
                    AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| Error::internal("HERALD_SMTP_URL", e))?.build();
                Mailer::Smtp { transport, from }
            }
            None => Mailer::Outbox { dir: outbox, from },
        })
    }

    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp { .. } => "SMTP".into(),
            Mailer::Outbox { dir, .. } => format!("files in {}", dir.display()),
        }
    }

    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<()> {
        let to: Mailbox = to.parse().map_err(|_| Error::invalid("email", "Not a valid email address."))?;
        let from = match self {
            Mailer::Smtp { from, .. } | Mailer::Outbox { from, .. } => from.clone(),
        };
        let message = Message::builder()
            .from(from)
            .to(to.clone())
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|e| Error::internal("build email", e))?;
        match self {
            Mailer::Smtp { transport, .. } => {
                transport.send(message).await.map_err(|e| Error::internal("send email", e))?;
            }
            Mailer::Outbox { dir, .. } => {
                tokio::fs::create_dir_all(dir).await.map_err(|e| Error::internal("create outbox", e))?;
                let name = format!("{}-{}.eml", crate::clock::Clock::now(&crate::clock::SystemClock), crate::ids::random_string(8));
                let path = dir.join(name);
                tokio::fs::write(&path, message.formatted()).await.map_err(|e| Error::internal("write outbox", e))?;
                // No SMTP: say where the mail is, so a local user can open their sign-up link.
                tracing::info!(to = %to.email, subject, file = %path.display(), "email written to the outbox");
                return Ok(());
            }
        }
        tracing::info!(to = %to.email, subject, "email sent");
        Ok(())
    }
}
