//! The audit log (Auth0's "Logs"): who did what, when, from where. Entries carry ids, names,
//! the client address and the user agent, never a secret, code or token. Writing an entry
//! never fails the action that caused it: a store failure is logged and the action goes on.
//!
//! [`Entry`] describes an event; an [`AuditSink`] writes it. [`StoreAudit`] appends at once;
//! the server also has a batched sink for its high-volume events.

use std::{
    net::IpAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use async_trait::async_trait;
use portcullis_store::{Client, LogEvent, Store, User};
use portcullis_types::EventType;

use crate::{secrets::random_hex, Clock};

/// The longest user agent kept.
const MAX_USER_AGENT: usize = 256;

/// Where a request came from: the client's address (after trusted proxies) and its
/// `User-Agent`, for the audit log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestOrigin {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl RequestOrigin {
    /// An origin; the user agent is cut to a sane length.
    pub fn new(ip: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        RequestOrigin {
            ip,
            user_agent: user_agent.map(|agent| agent.chars().take(MAX_USER_AGENT).collect()),
        }
    }

    /// The address throttling counts; a request without one counts as the unspecified address.
    pub fn throttled_ip(&self) -> IpAddr {
        self.ip
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }
}

/// Orders entries written by this process within one second.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// An entry being described; an [`AuditSink`] writes it.
#[derive(Clone, Debug)]
pub struct Entry(LogEvent);

/// Starts an entry of `event_type`.
pub fn entry(event_type: EventType, description: impl Into<String>) -> Entry {
    Entry(LogEvent {
        log_id: String::new(),
        date: 0,
        event_type,
        description: description.into(),
        ip: None,
        user_agent: None,
        client_id: None,
        client_name: None,
        user_id: None,
        user_name: None,
        details: serde_json::Value::Object(Default::default()),
    })
}

impl Entry {
    pub fn client(mut self, client: &Client) -> Self {
        self.0.client_id = Some(client.client_id.clone());
        self.0.client_name = Some(client.name.clone());
        self
    }

    /// A client known by id and name (a Management API caller).
    pub fn client_named(mut self, client_id: &str, name: &str) -> Self {
        self.0.client_id = Some(client_id.to_owned());
        self.0.client_name = Some(name.to_owned());
        self
    }

    pub fn client_id(mut self, client_id: &str) -> Self {
        self.0.client_id = Some(client_id.to_owned());
        self
    }

    pub fn user(mut self, user: &User) -> Self {
        self.0.user_id = Some(user.user_id.clone());
        self.0.user_name = Some(user.email.clone());
        self
    }

    pub fn user_id(mut self, user_id: &str) -> Self {
        self.0.user_id = Some(user_id.to_owned());
        self
    }

    /// The client address and user agent of the request.
    pub fn origin(mut self, origin: &RequestOrigin) -> Self {
        self.0.ip = origin.ip.map(|ip| ip.to_string());
        self.0.user_agent = origin.user_agent.clone();
        self
    }

    /// Structured context; must not hold secrets.
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.0.details = details;
        self
    }

    pub fn event_type(&self) -> &EventType {
        &self.0.event_type
    }

    /// The event, stamped with `clock` and given its sortable id.
    pub fn stamp(self, clock: &dyn Clock) -> LogEvent {
        let mut event = self.0;
        let now = clock.now();
        let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed) % 1_000_000;
        // Sortable by time; the random tail keeps replicas from colliding.
        event.log_id = format!("{now:012}{sequence:06}{}", random_hex(4));
        event.date = now * 1000;
        event
    }
}

/// Where audit entries go.
#[async_trait]
pub trait AuditSink: Send + Sync {
    /// Writes `entry`; a failure is logged, never returned.
    async fn record(&self, entry: Entry);
}

/// Appends each entry to the store at once, stamped with the clock.
#[derive(Clone)]
pub struct StoreAudit {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl StoreAudit {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        StoreAudit { store, clock }
    }
}

#[async_trait]
impl AuditSink for StoreAudit {
    async fn record(&self, entry: Entry) {
        let event = entry.stamp(self.clock.as_ref());
        if let Err(error) = self.store.append_log(&event).await {
            tracing::error!(%error, event_type = %event.event_type, "could not write the audit log");
        }
    }
}
