//! Shared by the `smol_*` tests: an HTTP/1.1 client written against [`Runtime`] (so it runs
//! on whatever runtime the test is about, with no tokio anywhere), and bounded waits.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use mesoswarm_shell::runtime::{timeout, BoxIo, Runtime};

/// The longest any single step of a test may take before it counts as hung.
pub const STEP: Duration = Duration::from_secs(20);

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A whole answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A keep-alive HTTP/1.1 client connection opened through the runtime under test.
pub struct Client<R: Runtime> {
    rt: R,
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl<R: Runtime> Client<R> {
    pub async fn tcp(rt: &R, addr: SocketAddr) -> std::io::Result<Client<R>> {
        let io = rt.connect_tcp(&addr.ip().to_string(), addr.port()).await?;
        Ok(Client::over(rt, io).await)
    }

    pub async fn unix(rt: &R, path: &Path) -> std::io::Result<Client<R>> {
        let io = rt.connect_unix(path).await?;
        Ok(Client::over(rt, io).await)
    }

    async fn over(rt: &R, io: BoxIo) -> Client<R> {
        let (sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
        rt.spawn(Box::pin(async move {
            let _ = conn.await;
        }));
        Client {
            rt: rt.clone(),
            sender,
        }
    }

    /// Sends a request and reads the whole answer, within [`STEP`].
    pub async fn call(&mut self, method: Method, path: &str, body: Option<&str>) -> Answer {
        let mut req = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("host", "mesoswarm");
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or("").to_string())))
            .unwrap();
        let sender = &mut self.sender;
        let exchange = async move {
            sender.ready().await.unwrap();
            let resp = sender.send_request(req).await.unwrap();
            let (parts, body) = resp.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            Answer {
                status: parts.status,
                headers: parts.headers,
                body,
            }
        };
        timeout(&self.rt, STEP, exchange)
            .await
            .unwrap_or_else(|| panic!("{method} {path}: no answer within {STEP:?}"))
    }
}

/// One request on a fresh TCP connection.
pub async fn call<R: Runtime>(
    rt: &R,
    addr: SocketAddr,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> Answer {
    Client::tcp(rt, addr)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"))
        .call(method, path, body)
        .await
}

/// Polls `check` every 50 ms until it gives `Some`; panics after `limit`.
pub async fn wait_for<R: Runtime, T, F, Fut>(rt: &R, what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        rt.sleep(Duration::from_millis(50)).await;
    }
}

/// The value of row `key` in `/info`'s `DriverStatus` (mesoswarm's cluster rows).
pub fn driver_status(info: &serde_json::Value, key: &str) -> Option<String> {
    info["DriverStatus"]
        .as_array()?
        .iter()
        .find(|row| row[0].as_str().map(str::trim) == Some(key))
        .and_then(|row| row[1].as_str().map(String::from))
}
