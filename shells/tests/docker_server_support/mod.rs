//! A mesoswarm Docker API server on 127.0.0.1 (or a unix socket) with an in-memory store
//! and no Mesos master, and a small HTTP client for the tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use mesoswarm_core::{Config, Manager};
use mesoswarm_shell::docker_server::{serve_docker_api, ServerLimits};
use mesoswarm_shell::driver::{spawn_driver, DriverHandle, DriverLimits, LinkCommand, LinkEvent};
use mesoswarm_shell::runtime::tokio::TokioRuntime;
use mesoswarm_shell::runtime::{Listener, Runtime};
use mesoswarm_shell::store::Store;

/// The longest any single step of a test may take before it counts as hung.
pub const STEP: Duration = Duration::from_secs(10);

/// A running server and the Mesos client's ends of the driver's link channels.
pub struct TestServer {
    pub addr: SocketAddr,
    pub driver: DriverHandle,
    pub link_commands: async_channel::Receiver<LinkCommand>,
    pub link_events: async_channel::Sender<LinkEvent>,
}

/// A driver with a fresh manager (not connected to Mesos) and an in-memory store.
pub fn driver(
    config: Config,
) -> (
    DriverHandle,
    async_channel::Receiver<LinkCommand>,
    async_channel::Sender<LinkEvent>,
) {
    let (cmd_tx, cmd_rx) = async_channel::bounded(256);
    let (ev_tx, ev_rx) = async_channel::bounded(256);
    let handle = spawn_driver(
        &TokioRuntime,
        Manager::new(config),
        Store::in_memory().unwrap(),
        cmd_tx,
        ev_rx,
        DriverLimits::default(),
    )
    .unwrap();
    (handle, cmd_rx, ev_tx)
}

/// Serves on 127.0.0.1 with an ephemeral port.
pub async fn start(config: Config, limits: ServerLimits) -> TestServer {
    let (driver, link_commands, link_events) = driver(config);
    let listener = TokioRuntime
        .bind_tcp("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr: SocketAddr = listener.local_addr().parse().unwrap();
    serve(vec![listener], driver.clone(), limits);
    TestServer {
        addr,
        driver,
        link_commands,
        link_events,
    }
}

/// Starts `serve_docker_api` in the background.
pub fn serve(listeners: Vec<Box<dyn Listener>>, driver: DriverHandle, limits: ServerLimits) {
    tokio::spawn(serve_docker_api(TokioRuntime, listeners, driver, limits));
}

/// A keep-alive HTTP/1.1 client connection.
pub struct Client {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Client {
    pub async fn tcp(addr: SocketAddr) -> Client {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        Client::over(TokioIo::new(stream)).await
    }

    pub async fn unix(path: &Path) -> Client {
        let stream = tokio::net::UnixStream::connect(path).await.unwrap();
        Client::over(TokioIo::new(stream)).await
    }

    async fn over<T>(io: T) -> Client
    where
        T: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static,
    {
        let (sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Client { sender }
    }

    /// Sends a request and returns as soon as the status line and headers arrived.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&str>,
    ) -> Response<Incoming> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "mesoswarm");
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or("").to_string())))
            .unwrap();
        self.sender.ready().await.unwrap();
        tokio::time::timeout(STEP, self.sender.send_request(req))
            .await
            .expect("the server answers in time")
            .unwrap()
    }

    /// Sends a request and reads the whole answer.
    pub async fn call(&mut self, method: Method, path: &str, body: Option<&str>) -> Answer {
        let resp = self.send(method, path, body).await;
        read(resp).await
    }
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

/// Reads the rest of a response.
pub async fn read(resp: Response<Incoming>) -> Answer {
    let (parts, body) = resp.into_parts();
    let body = tokio::time::timeout(STEP, body.collect())
        .await
        .expect("the body completes in time")
        .unwrap()
        .to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// One request on a new connection.
pub async fn call(addr: SocketAddr, method: Method, path: &str, body: Option<&str>) -> Answer {
    Client::tcp(addr).await.call(method, path, body).await
}

/// Creates a container from `busybox` and returns its id.
pub async fn create(addr: SocketAddr, name: &str) -> String {
    let a = call(
        addr,
        Method::POST,
        &format!("/v1.44/containers/create?name={name}"),
        Some(r#"{"Image":"busybox","Cmd":["sleep","60"]}"#),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    a.json()["Id"].as_str().unwrap().to_string()
}
