//! A real SMTP server for the email tests: mailin on 127.0.0.1, plain, with STARTTLS, or with
//! TLS from the first byte (smtps, mailin's session behind tokio-rustls), and `AUTH PLAIN`
//! under TLS, keeping every message it receives for the test to read.

use std::{
    io,
    net::TcpListener,
    sync::{Arc, Mutex},
    time::Duration,
};

use mailin_embedded::{response, Handler, Response, Server, SslConfig};

/// What the sink received: one SMTP transaction.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub(crate) from: String,
    pub(crate) to: Vec<String>,
    pub(crate) data: Vec<u8>,
}

/// The state of the sink, shared by its sessions and the test.
#[derive(Default)]
struct Mailbox {
    messages: Vec<Received>,
    /// The credentials clients authenticated with (`AUTH PLAIN`).
    logins: Vec<(String, String)>,
}

/// One SMTP session of the sink.
#[derive(Clone)]
struct Session {
    mailbox: Arc<Mutex<Mailbox>>,
    current: Option<Received>,
}

impl Handler for Session {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Some(Received {
            from: from.to_owned(),
            to: to.to_vec(),
            data: Vec::new(),
        });
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        if let Some(current) = &mut self.current {
            current.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some(received) = self.current.take() {
            self.mailbox.lock().unwrap().messages.push(received);
        }
        response::OK
    }

    fn auth_plain(&mut self, _authorization: &str, user: &str, password: &str) -> Response {
        self.mailbox
            .lock()
            .unwrap()
            .logins
            .push((user.to_owned(), password.to_owned()));
        if (user, password) == ("mailer", "s3cret: p@ss") {
            response::AUTH_OK
        } else {
            response::INVALID_CREDENTIALS
        }
    }
}

/// A real SMTP server (mailin) on 127.0.0.1 that keeps what it receives. It runs on threads
/// of its own until the test process ends.
pub(crate) struct Sink {
    pub(crate) port: u16,
    mailbox: Arc<Mutex<Mailbox>>,
}

impl Sink {
    /// A sink on a port the OS chooses.
    pub(crate) fn start() -> Sink {
        Self::on(
            TcpListener::bind("127.0.0.1:0").expect("bind"),
            SslConfig::None,
        )
    }

    /// A plain sink on `port`: an SMTP server that comes back after an outage.
    pub(crate) fn on_port(port: u16) -> Sink {
        Self::on(
            TcpListener::bind(("127.0.0.1", port)).expect("the port again"),
            SslConfig::None,
        )
    }

    /// A sink that offers STARTTLS with `cert` and `key` (PEM files) and takes `AUTH PLAIN`.
    pub(crate) fn with_starttls(cert: &std::path::Path, key: &std::path::Path) -> Sink {
        let ssl = SslConfig::SelfSigned {
            cert_path: cert.to_string_lossy().into_owned(),
            key_path: key.to_string_lossy().into_owned(),
        };
        Self::on(TcpListener::bind("127.0.0.1:0").expect("bind"), ssl)
    }

    /// A sink that speaks TLS from the first byte (smtps) with `cert` and `key` and takes
    /// `AUTH PLAIN`: mailin's SMTP session over tokio-rustls, on the test's runtime.
    pub(crate) fn with_implicit_tls(
        cert: rustls::pki_types::CertificateDer<'static>,
        key: rustls::pki_types::PrivateKeyDer<'static>,
    ) -> Sink {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .expect("sink TLS");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        let mailbox = Arc::new(Mutex::new(Mailbox::default()));
        let handler = Session {
            mailbox: mailbox.clone(),
            current: None,
        };
        tokio::spawn(async move {
            while let Ok((tcp, peer)) = listener.accept().await {
                let (acceptor, handler) = (acceptor.clone(), handler.clone());
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        let _ = smtp_session(tls, peer.ip(), handler).await;
                    }
                });
            }
        });
        Sink { port, mailbox }
    }

    fn on(listener: TcpListener, ssl: SslConfig) -> Sink {
        // mailin's TLS uses the process's rustls provider, as the server does.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let port = listener.local_addr().expect("addr").port();
        let mailbox = Arc::new(Mutex::new(Mailbox::default()));
        let mut server = Server::new(Session {
            mailbox: mailbox.clone(),
            current: None,
        });
        let tls = !matches!(ssl, SslConfig::None);
        server
            .with_name("sink.test")
            .with_ssl(ssl)
            .expect("sink TLS")
            .with_num_threads(4)
            .with_tcp_listener(listener);
        if tls {
            server.with_auth(mailin_embedded::AuthMechanism::Plain);
        }
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Sink { port, mailbox }
    }

    /// The credentials clients authenticated with, in order.
    pub(crate) fn logins(&self) -> Vec<(String, String)> {
        self.mailbox.lock().unwrap().logins.clone()
    }

    pub(crate) fn messages(&self) -> Vec<Received> {
        self.mailbox.lock().unwrap().messages.clone()
    }

    /// Waits until `count` messages have arrived; returns them.
    pub(crate) async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..200 {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{} messages arrived, {count} expected",
            self.messages().len()
        );
    }
}

/// One SMTP session over a stream that is already TLS: mailin's state machine, told so before
/// the greeting (no STARTTLS offered, `AUTH PLAIN` allowed), fed line by line.
async fn smtp_session<S>(stream: S, peer: std::net::IpAddr, handler: Session) -> io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use mailin::{Action, SessionBuilder};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let mut builder = SessionBuilder::new("sink.test");
    builder.enable_auth(mailin_embedded::AuthMechanism::Plain);
    let mut session = builder.build(peer, handler);
    session.tls_active();
    let mut stream = BufReader::new(stream);
    stream.write_all(&session.greeting().buffer()?).await?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if stream.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let response = session.process(&line);
        match response.action {
            Action::NoReply => continue,
            Action::Reply | Action::UpgradeTls => {
                stream.write_all(&response.buffer()?).await?;
            }
            Action::Close => {
                stream.write_all(&response.buffer()?).await?;
                return stream.shutdown().await;
            }
        }
        stream.flush().await?;
    }
}
