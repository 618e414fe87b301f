//! The inbound settings: the reply address rooms get plus-addresses of, the shared secret of the
//! HTTP door, its size limit, and the IMAP mailbox to watch. Each bad value names its variable.

use std::fmt;
use std::path::Path;

use url::Url;

use crate::config::ConfigError;

/// 25 MiB: what common providers accept as one message.
pub const DEFAULT_MAX_BYTES: usize = 25 * 1024 * 1024;

/// Everything inbound; all of it is optional and off by default.
#[derive(Clone, Debug, Default)]
pub struct InboundConfig {
    pub address: Option<ReplyAddress>,
    pub secret: Option<Secret>,
    pub max_bytes: usize,
    pub imap: Option<ImapMailbox>,
}

/// `ACCORD_INBOUND_ADDRESS`: rooms reply to `local+TOKEN@domain`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyAddress {
    local: String,
    domain: String,
}

/// Characters a reply token is made of (lowercase hex).
const TOKEN_LEN: usize = 20;

impl ReplyAddress {
    pub fn parse(raw: &str) -> Result<ReplyAddress, String> {
        let raw = raw.trim().to_lowercase();
        let (local, domain) = raw
            .split_once('@')
            .filter(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'))
            .ok_or("expected an address like escalations@example.com")?;
        if local.contains('+') || local.len() > 64 - 1 - TOKEN_LEN {
            return Err(format!(
                "the part before @ must be at most {} characters and contain no '+' (Accord adds +TOKEN)",
                64 - 1 - TOKEN_LEN
            ));
        }
        if !local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err("the part before @ may hold letters, digits, '.', '_' and '-'".into());
        }
        Ok(ReplyAddress {
            local: local.to_owned(),
            domain: domain.to_owned(),
        })
    }

    /// A room's reply address.
    pub fn with_token(&self, token: &str) -> String {
        format!("{}+{token}@{}", self.local, self.domain)
    }

    /// The token of `recipient` when it is one of these plus-addresses.
    pub fn token_in<'a>(&self, recipient: &'a str) -> Option<&'a str> {
        let (local, domain) = recipient.rsplit_once('@')?;
        let token = local.strip_prefix(self.local.as_str())?.strip_prefix('+')?;
        (domain.eq_ignore_ascii_case(&self.domain)
            && token.len() == TOKEN_LEN
            && token.chars().all(|c| c.is_ascii_hexdigit()))
        .then_some(token)
    }
}

/// A fresh, unguessable reply token.
pub fn new_token() -> String {
    crate::secrets::random_token()[..TOKEN_LEN].to_owned()
}

/// A shared secret whose `Debug` never shows it.
#[derive(Clone)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(REDACTED)")
    }
}

/// How the IMAP connection is encrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImapTls {
    /// `imaps://`: TLS from the first byte.
    Implicit,
    /// `imap://`: STARTTLS, required.
    StartTls,
    /// `imap://…?tls=none`: plain text, for a server on the same machine only.
    None,
}

/// `ACCORD_IMAP_URL`: the mailbox every instance watches.
#[derive(Clone)]
pub struct ImapMailbox {
    pub host: String,
    pub port: u16,
    pub tls: ImapTls,
    pub user: String,
    pub password: String,
    pub mailbox: String,
    /// PEM certificates of a private certificate authority (`ACCORD_IMAP_CA_FILE`).
    pub ca_pem: Option<Vec<u8>>,
}

impl fmt::Debug for ImapMailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapMailbox")
            .field("address", &self.address())
            .field("tls", &self.tls)
            .field("mailbox", &self.mailbox)
            .field("user", &"REDACTED")
            .finish()
    }
}

impl ImapMailbox {
    pub fn parse(raw: &str) -> Result<ImapMailbox, String> {
        let expected = "expected imaps://USER:PASSWORD@HOST[:PORT]/MAILBOX or imap://… (STARTTLS)";
        let url = Url::parse(raw).map_err(|e| format!("not a valid URL ({e}); {expected}"))?;
        let mut tls = match url.scheme() {
            "imaps" => ImapTls::Implicit,
            "imap" => ImapTls::StartTls,
            _ => return Err(expected.into()),
        };
        for (key, value) in url.query_pairs() {
            tls = match (key.as_ref(), value.as_ref(), tls) {
                ("tls", "none", ImapTls::StartTls) => ImapTls::None,
                ("tls", "required", ImapTls::StartTls) => ImapTls::StartTls,
                _ => return Err(format!("unknown option {key}={value}; {expected}")),
            };
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("the URL has no host")?
            .trim_matches(['[', ']'])
            .to_owned();
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let (user, password) = match (url.username(), url.password()) {
            ("", _) | (_, None) => return Err(format!("the URL needs USER:PASSWORD@; {expected}")),
            (user, Some(password)) => (decode(user), decode(password)),
        };
        let mailbox = match url.path().trim_matches('/') {
            "" => "INBOX".to_owned(),
            path => url::form_urlencoded::parse(format!("x={path}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_else(|| path.to_owned()),
        };
        let port = url.port().unwrap_or(match tls {
            ImapTls::Implicit => 993,
            _ => 143,
        });
        Ok(ImapMailbox {
            host,
            port,
            tls,
            user,
            password,
            mailbox,
            ca_pem: None,
        })
    }

    /// Host and port, for messages (no credentials).
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// What `Settings` hands over for validation.
pub struct Raw<'a> {
    pub address: Option<&'a str>,
    pub secret: Option<&'a str>,
    pub max_bytes: &'a str,
    pub imap_url: Option<&'a str>,
    pub imap_ca_file: Option<&'a Path>,
}

fn invalid(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

impl InboundConfig {
    pub fn validate(raw: &Raw<'_>) -> Result<InboundConfig, ConfigError> {
        let address = given(raw.address)
            .map(|a| ReplyAddress::parse(a).map_err(|e| invalid("ACCORD_INBOUND_ADDRESS", e)))
            .transpose()?;
        let secret = match given(raw.secret) {
            Some(secret) if secret.len() < 16 => {
                return Err(invalid(
                    "ACCORD_INBOUND_SECRET",
                    "use at least 16 characters (a random string: openssl rand -hex 32)",
                ));
            }
            secret => secret.map(|s| Secret(s.to_owned())),
        };
        let max_bytes = match raw.max_bytes.trim().parse::<usize>() {
            Ok(n) if (1024..=1024 * 1024 * 1024).contains(&n) => n,
            _ => {
                return Err(invalid(
                    "ACCORD_INBOUND_MAX_BYTES",
                    format!(
                        "{:?} is not a size in bytes between 1024 and 1 GiB",
                        raw.max_bytes
                    ),
                ));
            }
        };
        let ca_pem = crate::config::read_ca_file("ACCORD_IMAP_CA_FILE", raw.imap_ca_file)?;
        let imap = given(raw.imap_url)
            .map(|url| {
                ImapMailbox::parse(url)
                    .map(|imap| ImapMailbox {
                        ca_pem: ca_pem.clone(),
                        ..imap
                    })
                    .map_err(|e| invalid("ACCORD_IMAP_URL", e))
            })
            .transpose()?;
        Ok(InboundConfig {
            address,
            secret,
            max_bytes,
            imap,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_reply_address_carries_a_token_only_accord_made() {
        let address = ReplyAddress::parse("Escalations@Example.com").unwrap();
        let token = new_token();
        let full = address.with_token(&token);
        assert_eq!(full, format!("escalations+{token}@example.com"));
        assert_eq!(address.token_in(&full), Some(token.as_str()));
        assert_eq!(address.token_in("escalations@example.com"), None);
        assert_eq!(address.token_in("escalations+short@example.com"), None);
        assert_eq!(
            address.token_in(&full.replace("example.com", "evil.example")),
            None
        );
        assert_eq!(
            address.token_in(&format!("other+{token}@example.com")),
            None
        );
        for bad in ["nope", "a+b@example.com", "a@localhost", "a b@example.com"] {
            assert!(ReplyAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn imap_urls_name_the_encryption_mailbox_and_credentials() {
        let implicit =
            ImapMailbox::parse("imaps://inbox%40x:p%3Ass@mail.example/Escalations").unwrap();
        assert_eq!((implicit.tls, implicit.port), (ImapTls::Implicit, 993));
        assert_eq!(
            (implicit.user.as_str(), implicit.password.as_str()),
            ("inbox@x", "p:ss")
        );
        assert_eq!(implicit.mailbox, "Escalations");
        let starttls = ImapMailbox::parse("imap://u:p@mail.example:1143").unwrap();
        assert_eq!(
            (starttls.tls, starttls.port, starttls.mailbox.as_str()),
            (ImapTls::StartTls, 1143, "INBOX")
        );
        assert_eq!(
            ImapMailbox::parse("imap://u:p@127.0.0.1?tls=none")
                .unwrap()
                .tls,
            ImapTls::None
        );
        assert!(!format!("{implicit:?}").contains("p:ss"));
        for bad in [
            "http://u:p@x",
            "imap://x/INBOX",
            "imaps://u:p@x?tls=none",
            "imap://u@x",
        ] {
            assert!(ImapMailbox::parse(bad).is_err(), "{bad}");
        }
    }
}
