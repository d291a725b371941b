//! What the fuzz targets share: the real server built once per fuzzing process on a temporary
//! SQLite store (with an API, applications, a user, a role and a login session to aim at), a
//! way to send it one request in-process, and the resource-server guard with a loopback JWKS.
//!
//! An input for a server target reads like an HTTP request without its request line:
//! `name: value` header lines, a blank line, then the body (or the query, for `/authorize`).
//! Without a blank line the whole input is the body. Before sending, placeholders in braces
//! are replaced by the fixture's values ([`Fixture::substitute`]), so that seed files written
//! by hand reach past the lookups of unknown clients and users.

pub mod guard;
pub mod server;

/// The runtime of a fixture: one worker, so an input's tasks run where they would on a
/// small server, and the fuzzing thread waits for them.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The parts of a fuzz input for a server target.
pub struct Input {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Input {
    /// Splits `data` at the first blank line into header lines and body.
    pub fn parse(data: &[u8]) -> Input {
        let Some(split) = data.windows(2).position(|pair| pair == b"\n\n") else {
            return Input {
                headers: Vec::new(),
                body: data.to_vec(),
            };
        };
        let head = String::from_utf8_lossy(&data[..split]);
        let headers = head
            .lines()
            .filter_map(|line| {
                let (name, value) = line.split_once(':')?;
                Some((name.trim().to_owned(), value.trim().to_owned()))
            })
            .collect();
        Input {
            headers,
            body: data[split + 2..].to_vec(),
        }
    }

    /// The value of pseudo-header `name` (`:path`, `:method`), which is not sent.
    pub fn pseudo(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}
