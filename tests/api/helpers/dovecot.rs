//! A real IMAP server for the inbound tests: Debian's Dovecot, started as a plain process on free
//! local ports with a throwaway mail home, TLS from a throwaway CA (STARTTLS on one port, implicit
//! TLS on another). Messages are placed with IMAP `APPEND`, as a mail server would deliver them.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use tokio::net::TcpStream;

use super::free_port;

pub const USER: &str = "escalations";
pub const PASSWORD: &str = "imap-test-password";

pub struct Dovecot {
    dir: tempfile::TempDir,
    pub port: u16,
    pub imaps_port: u16,
    pub ca_file: PathBuf,
}

fn dovecot_binary() -> &'static str {
    for path in ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"] {
        if std::path::Path::new(path).exists() {
            return path;
        }
    }
    panic!(
        "the inbound tests need a real IMAP server: install Debian's dovecot-imapd \
         (apt-get install dovecot-imapd; .ci/run does this)"
    );
}

impl Dovecot {
    pub async fn start() -> Dovecot {
        let binary = dovecot_binary();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for sub in ["run", "state", "mail"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let (port, imaps_port) = (free_port(), free_port());
        let (ca_pem, cert_pem, key_pem) = certificate();
        let ca_file = d.join("ca.pem");
        std::fs::write(&ca_file, ca_pem).unwrap();
        std::fs::write(d.join("cert.pem"), cert_pem).unwrap();
        std::fs::write(d.join("key.pem"), key_pem).unwrap();
        std::fs::write(
            d.join("passwd"),
            format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n"),
        )
        .unwrap();
        let config = format!(
            "protocols = imap\n\
             listen = 127.0.0.1\n\
             base_dir = {d}/run\n\
             state_dir = {d}/state\n\
             log_path = {d}/dovecot.log\n\
             ssl = yes\n\
             ssl_cert = <{d}/cert.pem\n\
             ssl_key = <{d}/key.pem\n\
             first_valid_uid = 1\n\
             disable_plaintext_auth = no\n\
             auth_mechanisms = plain login\n\
             mail_location = maildir:{d}/mail/%u\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid=dovecot gid=dovecot home={d}/mail/%u\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {imaps_port}\n  }}\n}}\n",
            d = d.display()
        );
        std::fs::write(d.join("dovecot.conf"), config).unwrap();
        Command::new("chown")
            .args(["-R", "dovecot:dovecot"])
            .arg(d.join("mail"))
            .status()
            .unwrap();
        let status = Command::new(binary)
            .arg("-c")
            .arg(d.join("dovecot.conf"))
            .status()
            .unwrap();
        assert!(status.success(), "dovecot did not start");
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Dovecot {
                    dir,
                    port,
                    imaps_port,
                    ca_file,
                };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("dovecot did not listen on {port}");
    }

    /// `imap://` with STARTTLS, for Accord's `--imap-url`.
    pub fn url(&self) -> String {
        format!("imap://{USER}:{PASSWORD}@localhost:{}/INBOX", self.port)
    }

    /// `imaps://` (TLS from the first byte).
    pub fn imaps_url(&self) -> String {
        format!(
            "imaps://{USER}:{PASSWORD}@localhost:{}/INBOX",
            self.imaps_port
        )
    }

    async fn session(&self) -> async_imap::Session<TcpStream> {
        let tcp = TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap();
        client
            .login(USER, PASSWORD)
            .await
            .map_err(|(e, _)| e)
            .unwrap()
    }

    /// Delivers a message into the inbox, unseen.
    pub async fn append(&self, raw: &[u8]) {
        let mut session = self.session().await;
        session.append("INBOX", None, None, raw).await.unwrap();
        session.logout().await.unwrap();
    }

    /// How many messages of the inbox are unseen.
    pub async fn unseen(&self) -> usize {
        let mut session = self.session().await;
        session.select("INBOX").await.unwrap();
        let unseen = session.uid_search("UNSEEN").await.unwrap().len();
        let _ = session.logout().await;
        unseen
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("doveadm")
            .arg("-c")
            .arg(self.dir.path().join("dovecot.conf"))
            .arg("stop")
            .status();
    }
}

/// A throwaway CA and a certificate for localhost it signed, as PEM: (ca, cert chain, key).
fn certificate() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Accord IMAP test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let leaf = params.signed_by(&key, &ca, &ca_key).unwrap();
    (
        ca.pem(),
        format!("{}{}", leaf.pem(), ca.pem()),
        key.serialize_pem(),
    )
}
