//! Serving a router on a listener, plain or TLS, with limits on what a connection may hold:
//! a request head must arrive within the header read timeout and fit in the header size
//! limit, so that a client sending one byte a second, or nothing at all, is hung up on.
//!
//! hyper times the reading of an HTTP/1.1 head (`header_read_timeout`) only once it knows the
//! connection speaks HTTP/1.1, which it learns from the first bytes (anything but HTTP/2's
//! preface). [`FirstBytesDeadline`] times that first part: a connection that has not shown its
//! version within the same timeout is closed.

use std::{
    future::Future,
    io,
    net::SocketAddr,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use axum::Router;
use axum_server::{accept::Accept, tls_rustls::RustlsConfig, Handle};
use hyper_util::{
    rt::{TokioExecutor, TokioTimer},
    server::conn::auto::Builder,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::Sleep,
};

use crate::settings::ConnectionLimits;

/// What an HTTP/2 connection starts with (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Serves `router` on `listener` (https with `tls`) until `handle` shuts it down.
pub async fn serve(
    listener: std::net::TcpListener,
    router: Router,
    tls: Option<RustlsConfig>,
    limits: ConnectionLimits,
    handle: Handle,
) -> io::Result<()> {
    let app = router.into_make_service_with_connect_info::<SocketAddr>();
    let timeout = limits.header_read_timeout;
    match tls {
        Some(config) => {
            let mut server =
                axum_server::from_tcp_rustls(listener, config).map(|tls| FirstBytesDeadline {
                    inner: tls.handshake_timeout(timeout),
                    timeout,
                });
            limit_connections(server.http_builder(), limits);
            server.handle(handle).serve(app).await
        }
        None => {
            let mut server =
                axum_server::from_tcp(listener).map(|inner| FirstBytesDeadline { inner, timeout });
            limit_connections(server.http_builder(), limits);
            server.handle(handle).serve(app).await
        }
    }
}

/// An HTTP/1.1 head must arrive within the timeout (after the previous response, on a kept
/// alive connection) and fit in the buffer, or it is answered 431; HTTP/2 header lists get the
/// same size limit.
fn limit_connections(builder: &mut Builder<TokioExecutor>, limits: ConnectionLimits) {
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes);
    builder
        .http2()
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
}

/// Wraps the streams an acceptor yields in [`Deadlined`].
#[derive(Clone)]
struct FirstBytesDeadline<A> {
    inner: A,
    timeout: Duration,
}

type Accepted<S, T> = Pin<Box<dyn Future<Output = io::Result<(Deadlined<S>, T)>> + Send>>;

impl<I, S, A> Accept<I, S> for FirstBytesDeadline<A>
where
    A: Accept<I, S>,
    A::Future: Send + 'static,
    A::Stream: Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = Deadlined<A::Stream>;
    type Service = A::Service;
    type Future = Accepted<A::Stream, A::Service>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let accepted = self.inner.accept(stream, service);
        let timeout = self.timeout;
        Box::pin(async move {
            let (stream, service) = accepted.await?;
            let deadline = Some(Box::pin(tokio::time::sleep(timeout)));
            Ok((
                Deadlined {
                    inner: stream,
                    deadline,
                    preface_seen: 0,
                },
                service,
            ))
        })
    }
}

/// A connection's stream that fails its reads once the deadline passes while everything read
/// so far could still be the start of HTTP/2's preface (nothing read yet included); the
/// deadline is lifted by the first byte that is not, or by the whole preface.
pub struct Deadlined<S> {
    inner: S,
    deadline: Option<Pin<Box<Sleep>>>,
    preface_seen: usize,
}

impl<S> Deadlined<S> {
    fn saw(&mut self, bytes: &[u8]) {
        let rest = &H2_PREFACE[self.preface_seen..];
        let checked = bytes.len().min(rest.len());
        self.preface_seen += checked;
        if bytes.is_empty()
            || bytes[..checked] != rest[..checked]
            || self.preface_seen == H2_PREFACE.len()
        {
            self.deadline = None;
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Deadlined<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if this.deadline.is_some() {
                    this.saw(&buf.filled()[before..]);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                let expired = this
                    .deadline
                    .as_mut()
                    .is_some_and(|deadline| deadline.as_mut().poll(cx).is_ready());
                if expired {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no request within the header read timeout",
                    )));
                }
                Poll::Pending
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Deadlined<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadlined() -> Deadlined<tokio::io::Empty> {
        Deadlined {
            inner: tokio::io::empty(),
            deadline: Some(Box::pin(tokio::time::sleep(Duration::from_secs(60)))),
            preface_seen: 0,
        }
    }

    #[tokio::test]
    async fn the_deadline_is_lifted_by_the_first_byte_that_is_not_the_h2_preface() {
        let mut stream = deadlined();
        stream.saw(b"G");
        assert!(stream.deadline.is_none());

        let mut stream = deadlined();
        for byte in &H2_PREFACE[..23] {
            stream.saw(std::slice::from_ref(byte));
            assert!(stream.deadline.is_some(), "a slow preface stays timed");
        }
        stream.saw(&H2_PREFACE[23..]);
        assert!(stream.deadline.is_none(), "the whole preface: HTTP/2");

        let mut stream = deadlined();
        stream.saw(b"PRI * HTTP/1.1");
        assert!(stream.deadline.is_none());
    }
}
