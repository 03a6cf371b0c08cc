//! The simulated Mesos master behind a real v1 scheduler HTTP endpoint.
//!
//! `mesoswarm_sim::SimCluster` decides everything a master decides; this file only speaks
//! HTTP as a real Mesos 1.11 master does: `POST /master/api/v1/scheduler` (and the
//! `/api/v1/scheduler` alias), 405 for other methods, 400/415 for a missing or wrong
//! `Content-Type`, 406 for an unacceptable `Accept` on SUBSCRIBE, 400 for a SUBSCRIBE that
//! carries `Mesos-Stream-Id`, and the SUBSCRIBE answer as a chunked RecordIO stream of
//! protobuf `Event`s with a `Mesos-Stream-Id` header. It speaks protobuf only: a JSON call
//! gets 415 with a message saying so (the manager never sends JSON).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use mesoswarm_proto::recordio;
use mesoswarm_proto::scheduler::{call, Call};
use mesoswarm_proto::v1::TaskState;
use mesoswarm_sim::{ClusterOutput, SimCluster};
use prost::Message;

use crate::clock::Clock;
use crate::runtime::{BoxIo, Listener, Runtime};

/// Events queued for one subscription before it counts as too slow and is closed.
pub const MAX_QUEUED_EVENTS_PER_STREAM: usize = 100_000;
/// Largest call body accepted, in bytes.
pub const MAX_CALL_BYTES: usize = 16 << 20;

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// The shared state: the model and the open event streams.
struct State {
    cluster: SimCluster,
    streams: std::collections::BTreeMap<String, async_channel::Sender<Bytes>>,
    external: async_channel::Sender<ClusterOutput>,
}

/// A running simulated master.
#[derive(Clone)]
pub struct SimMasterServer<R: Runtime> {
    rt: R,
    /// Set on a master that is not the leader: every scheduler call is redirected there.
    leader: Option<Arc<str>>,
    clock: Arc<Clock>,
    state: Arc<Mutex<State>>,
    kick: async_channel::Sender<()>,
}

impl<R: Runtime> SimMasterServer<R> {
    /// Wraps a cluster. `external` receives launch/kill requests when the cluster runs its
    /// tasks outside (real containers); otherwise nothing is sent there.
    pub fn new(
        rt: R,
        clock: Clock,
        cluster: SimCluster,
        external: async_channel::Sender<ClusterOutput>,
    ) -> Self {
        let (kick, kicked) = async_channel::bounded(1);
        let server = SimMasterServer {
            rt: rt.clone(),
            leader: None,
            clock: Arc::new(clock),
            state: Arc::new(Mutex::new(State {
                cluster,
                streams: Default::default(),
                external,
            })),
            kick,
        };
        let timer = server.clone();
        rt.spawn(Box::pin(async move { timer.run_timers(kicked).await }));
        server
    }

    /// Makes this master a follower of `leader` (`host:port`): like a real non-leading
    /// master, it answers every scheduler call with `307 Temporary Redirect` and a
    /// protocol-relative `Location: //leader/path`.
    pub fn follower_of(mut self, leader: &str) -> Self {
        self.leader = Some(Arc::from(leader));
        self
    }

    /// Runs `f` on the cluster, then delivers whatever it produced.
    pub fn with_cluster<T>(
        &self,
        f: impl FnOnce(&mut SimCluster, mesoswarm_core::time::Instant) -> T,
    ) -> T {
        let now = self.clock.now();
        let mut st = self.state.lock().expect("sim master lock");
        let out = f(&mut st.cluster, now);
        deliver(&mut st);
        drop(st);
        let _ = self.kick.try_send(());
        out
    }

    /// Tells the model how a task's container is doing (external executor mode: the dev
    /// agents' containers run on a real Docker engine), then delivers the status update the
    /// agent sends for it. Reports for unknown or already ended tasks are ignored.
    pub fn report_task_status(
        &self,
        agent_id: &str,
        task_id: &str,
        state: TaskState,
        message: Option<String>,
        data: Option<Vec<u8>>,
    ) {
        self.with_cluster(|c, now| {
            c.report_task_status(now, agent_id, task_id, state, message, data)
        });
    }

    /// Fires the model's timers on time, forever.
    async fn run_timers(&self, kicked: async_channel::Receiver<()>) {
        loop {
            let wait = {
                let now = self.clock.now();
                let mut st = self.state.lock().expect("sim master lock");
                st.cluster.handle_timeout(now);
                deliver(&mut st);
                match st.cluster.poll_timeout() {
                    Some(at) => at.saturating_since(now).max(Duration::from_millis(1)),
                    None => Duration::from_secs(3600),
                }
            };
            let sleep = self.rt.sleep(wait);
            let kick = kicked.recv();
            futures_util::pin_mut!(kick);
            // A closed kick channel means the server is gone: stop the timer task.
            if let futures_util::future::Either::Right((Err(_), _)) =
                futures_util::future::select(sleep, kick).await
            {
                return;
            }
        }
    }

    /// Serves the v1 scheduler API on `listener` until the listener fails.
    pub async fn serve(self, mut listener: Box<dyn Listener>) {
        loop {
            let io = match listener.accept().await {
                Ok(io) => io,
                Err(e) => {
                    tracing::warn!("simulated master: accept failed: {e}");
                    self.rt.sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let server = self.clone();
            self.rt
                .spawn(Box::pin(async move { server.serve_connection(io).await }));
        }
    }

    async fn serve_connection(self, io: BoxIo) {
        let service = hyper::service::service_fn(move |req| {
            let server = self.clone();
            async move { Ok::<_, Infallible>(server.handle(req).await) }
        });
        if let Err(e) = hyper::server::conn::http1::Builder::new()
            .serve_connection(io, service)
            .await
        {
            tracing::debug!("simulated master: connection ended: {e}");
        }
    }

    async fn handle(&self, req: Request<Incoming>) -> Response<Body> {
        let path = req.uri().path();
        if path != "/master/api/v1/scheduler" && path != "/api/v1/scheduler" {
            return text(StatusCode::NOT_FOUND, "");
        }
        if let Some(leader) = &self.leader {
            let mut r = text(StatusCode::TEMPORARY_REDIRECT, "");
            if let Ok(v) = http::HeaderValue::from_str(&format!("//{leader}{path}")) {
                r.headers_mut().insert(http::header::LOCATION, v);
            }
            return r;
        }
        if req.method() != Method::POST {
            let msg = format!(
                "Expecting one of {{ 'POST' }}, but received '{}'",
                req.method()
            );
            let mut r = text(StatusCode::METHOD_NOT_ALLOWED, &msg);
            r.headers_mut()
                .insert(http::header::ALLOW, http::HeaderValue::from_static("POST"));
            return r;
        }
        let content_type = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        match content_type.as_deref() {
            None => return text(StatusCode::BAD_REQUEST, "Expecting 'Content-Type' to be present"),
            Some("application/x-protobuf") => {}
            Some("application/json") => {
                return text(StatusCode::UNSUPPORTED_MEDIA_TYPE, "mesoswarm's simulated master speaks application/x-protobuf only")
            }
            Some(other) => {
                return text(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    &format!("Expecting 'Content-Type' of application/json or application/x-protobuf; got '{other}'"),
                )
            }
        }
        let stream_id = req
            .headers()
            .get("Mesos-Stream-Id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let accept = req
            .headers()
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = match http_body_util::Limited::new(req.into_body(), MAX_CALL_BYTES)
            .collect()
            .await
        {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    &format!("Failed to read body: {e}"),
                )
            }
        };
        let call = match Call::decode(body) {
            Ok(c) => c,
            Err(_) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    "Failed to parse body into Call protobuf",
                )
            }
        };
        if call.r#type == Some(call::Type::Subscribe as i32) {
            if !accept.as_deref().is_none_or(|a| {
                a.contains("application/x-protobuf")
                    || a.contains("*/*")
                    || a.contains("application/*")
            }) {
                return text(StatusCode::NOT_ACCEPTABLE, "");
            }
            if stream_id.is_some() {
                return text(
                    StatusCode::BAD_REQUEST,
                    "Subscribe calls should not include the 'Mesos-Stream-Id' header",
                );
            }
            return self.subscribe(call);
        }
        match self.with_cluster(|c, now| c.http_call(now, stream_id.as_deref(), call)) {
            Ok(status) => text(
                StatusCode::from_u16(status).unwrap_or(StatusCode::ACCEPTED),
                "",
            ),
            Err(e) => text(
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
                &e.message,
            ),
        }
    }

    fn subscribe(&self, call: Call) -> Response<Body> {
        let (tx, rx) = async_channel::bounded::<Bytes>(MAX_QUEUED_EVENTS_PER_STREAM);
        let now = self.clock.now();
        let mut st = self.state.lock().expect("sim master lock");
        let stream = match st.cluster.http_subscribe(now, call) {
            Ok(s) => s,
            Err(e) => {
                return text(
                    StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
                    &e.message,
                );
            }
        };
        st.streams.insert(stream.clone(), tx);
        deliver(&mut st);
        drop(st);
        let _ = self.kick.try_send(());
        let guard = StreamGuard {
            server: self.state.clone(),
            clock: self.clock.clone(),
            stream: stream.clone(),
        };
        let body = StreamBody::new(futures_util::stream::unfold(
            (rx, guard),
            |(rx, guard)| async move {
                let bytes = rx.recv().await.ok()?;
                Some((Ok::<_, Infallible>(Frame::data(bytes)), (rx, guard)))
            },
        ));
        Response::builder()
            .status(StatusCode::OK)
            .header(http::header::CONTENT_TYPE, "application/x-protobuf")
            .header("Mesos-Stream-Id", stream)
            .body(body.boxed())
            .expect("valid response")
    }
}

/// Tells the model when a subscription's HTTP response goes away (the client closed it).
struct StreamGuard {
    server: Arc<Mutex<State>>,
    clock: Arc<Clock>,
    stream: String,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        if let Ok(mut st) = self.server.lock() {
            if st.streams.remove(&self.stream).is_some() {
                let now = self.clock.now();
                st.cluster.http_disconnected(now, &self.stream);
                deliver(&mut st);
            }
        }
    }
}

/// Moves the model's outputs to where they go: events onto their streams as RecordIO.
fn deliver(st: &mut State) {
    while let Some(out) = st.cluster.poll_output() {
        match out {
            ClusterOutput::Event { stream, event } => {
                let Some(tx) = st.streams.get(&stream) else {
                    continue;
                };
                let mut buf = Vec::new();
                recordio::encode(&event.encode_to_vec(), &mut buf);
                if tx.try_send(Bytes::from(buf)).is_err() {
                    tracing::warn!(
                        "simulated master: subscriber {stream} is too slow; closing its stream"
                    );
                    st.streams.remove(&stream);
                }
            }
            ClusterOutput::CloseStream { stream } => {
                st.streams.remove(&stream);
            }
            other => {
                if st.external.try_send(other).is_err() {
                    tracing::warn!(
                        "simulated master: no executor takes launch/kill requests; dropped one"
                    );
                }
            }
        }
    }
}

fn text(status: StatusCode, msg: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(msg.to_string())).boxed())
        .expect("valid response")
}
