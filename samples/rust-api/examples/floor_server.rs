//! The HTTP floor for the guard benchmark: a bare axum server on one thread whose handler
//! stays busy for a given time and answers like `/api/external`, with no guard and no
//! middleware. Loaded like the sample API, it shows what any server spending that long per
//! request (say, one jsonwebtoken RS256 verification) can reach on this machine and this
//! loopback, before any guard logic.
//!
//! ```text
//! cargo run --release -p sample-api --example floor_server -- PORT BUSY_MICROSECONDS
//! ```
//!
//! Listens on 127.0.0.1 only.

use std::time::{Duration, Instant};

use axum::{http::header, routing::get, Router};

const BODY: &str = r#"{"msg":"Your access token was successfully validated!"}"#;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: floor_server PORT BUSY_MICROSECONDS";
    let port: u16 = args.next().ok_or_else(|| anyhow::anyhow!(usage))?.parse()?;
    let busy_ns: u64 = (args
        .next()
        .ok_or_else(|| anyhow::anyhow!(usage))?
        .parse::<f64>()?
        * 1000.0) as u64;
    let busy = Duration::from_nanos(busy_ns);
    let app = Router::new().route(
        "/api/external",
        get(move || async move {
            let start = Instant::now();
            while start.elapsed() < busy {
                std::hint::spin_loop();
            }
            ([(header::CONTENT_TYPE, "application/json")], BODY)
        }),
    );
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
            axum::serve(listener, app).await?;
            Ok(())
        })
}
