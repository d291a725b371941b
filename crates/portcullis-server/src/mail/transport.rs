//! The SMTP client: one lettre transport (tokio, rustls, a small connection pool) built from
//! the settings, and a stored message turned into a MIME message (text and HTML
//! alternatives) and sent.

use anyhow::Context as _;
use lettre::{
    message::{header::MessageId, Mailbox, MultiPart},
    transport::smtp::{
        authentication::Credentials,
        client::{Certificate, Tls, TlsParameters},
    },
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use portcullis_store::Email;

use super::settings::{SmtpSecurity, SmtpSettings};

/// Why a message was not sent.
#[derive(Debug)]
pub struct SendError {
    /// The server refused it for good (a 5xx answer), or it cannot be built: another attempt
    /// would fail the same way.
    pub permanent: bool,
    /// For the outbox and the log: the server's answer or the connection error. Never the
    /// message's parts.
    pub message: String,
}

impl SendError {
    fn permanent(message: impl Into<String>) -> Self {
        SendError {
            permanent: true,
            message: message.into(),
        }
    }
}

/// A connection (pool) to the configured SMTP server.
#[derive(Clone)]
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The most one message's delivery may take: lettre's async client bounds only the
    /// connection, so a server that accepts and never answers would hold the sender for ever.
    timeout: std::time::Duration,
}

impl Smtp {
    /// Builds the transport; nothing connects until the first message.
    pub fn new(settings: &SmtpSettings) -> anyhow::Result<Self> {
        let server = &settings.server;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host)
            .port(server.port)
            .timeout(Some(settings.timeout));
        let mut parameters = TlsParameters::builder(server.host.clone());
        if let Some(path) = &settings.ca_file {
            let pem = std::fs::read(path)
                .with_context(|| format!("reading PORTCULLIS_SMTP_CA_FILE {}", path.display()))?;
            let roots = Certificate::from_pem(&pem)
                .with_context(|| format!("{} holds no PEM certificate", path.display()))?;
            parameters = parameters.add_root_certificate(roots);
        }
        builder = match server.security {
            SmtpSecurity::StartTls => builder.tls(Tls::Required(parameters.build()?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(parameters.build()?)),
            SmtpSecurity::None => builder.tls(Tls::None),
        };
        if let Some(username) = &server.username {
            let password = server
                .password
                .as_ref()
                .map(|password| password.expose_str().to_owned())
                .unwrap_or_default();
            builder = builder.credentials(Credentials::new(username.clone(), password));
        }
        Ok(Smtp {
            transport: builder.build(),
            from: settings.from.clone(),
            timeout: settings.timeout,
        })
    }

    /// Sends `email` once, within the timeout (a later attempt may succeed).
    pub async fn send(&self, email: &Email) -> Result<(), SendError> {
        let message = self.message(email)?;
        let sent = tokio::time::timeout(self.timeout, self.transport.send(message))
            .await
            .map_err(|_| SendError {
                permanent: false,
                message: format!(
                    "the SMTP server did not finish within {} s",
                    self.timeout.as_secs_f32()
                ),
            })?;
        sent.map(|_| ()).map_err(|error| SendError {
            permanent: error.is_permanent(),
            message: error.to_string(),
        })
    }

    /// The MIME message: from the template's sender or the default one, with a Message-ID made
    /// of the message's id, so that a message sent again after a crash reads as the same one.
    fn message(&self, email: &Email) -> Result<Message, SendError> {
        let from = match email.sender.as_deref() {
            Some(sender) => sender.parse::<Mailbox>().map_err(|error| {
                SendError::permanent(format!("the template's sender is not an address: {error}"))
            })?,
            None => self.from.clone(),
        };
        let to = email.recipient.parse::<Mailbox>().map_err(|error| {
            SendError::permanent(format!("the recipient is not an address: {error}"))
        })?;
        let message_id = format!("<{}@{}>", email.id, from.email.domain());
        Message::builder()
            .from(from)
            .to(to)
            .subject(email.subject.clone())
            .header(MessageId::from(message_id))
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|error| SendError::permanent(format!("the message cannot be built: {error}")))
    }
}
