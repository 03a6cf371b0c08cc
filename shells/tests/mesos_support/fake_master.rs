//! A fake Mesos master: the v1 scheduler endpoint with the real master's checks and answers
//! (`reference/mesos-v1-api.md` §1.2), a protobuf RecordIO event stream per SUBSCRIBE, and
//! a record of every call it got.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use mesoswarm_proto::recordio;
use mesoswarm_proto::scheduler::{call, event, Call, Event};
use mesoswarm_proto::v1::{value, AgentId, FrameworkId, MasterInfo, Offer, OfferId, Resource};
use mesoswarm_shell::runtime::tokio::TokioRuntime;
use mesoswarm_shell::runtime::Runtime;
use prost::Message as _;
use tokio::sync::mpsc;

/// The framework id the fake master hands out.
pub const FRAMEWORK_ID: &str = "fake-master-0000";
const PROTOBUF: &str = "application/x-protobuf";

/// How the fake master behaves.
#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    /// Not the leader: answer every request `307` with this `Location`.
    pub redirect_to: Option<String>,
    /// Write the event stream in pieces of this many bytes (0: one piece per record).
    pub chunk_bytes: usize,
    /// Answer this many SUBSCRIBEs `503` first (a master still recovering).
    pub unavailable_subscribes: usize,
}

/// A call the fake master received, with what it answered.
#[derive(Clone, Debug)]
pub struct Received {
    /// The decoded call.
    pub call: Call,
    /// Its `Mesos-Stream-Id` header.
    pub stream_id: Option<String>,
    /// Its `Authorization` header.
    pub authorization: Option<String>,
    /// Its `Accept` header.
    pub accept: Option<String>,
    /// The status answered.
    pub status: u16,
}

struct Stream {
    id: String,
    tx: mpsc::UnboundedSender<Bytes>,
}

struct State {
    behaviour: Behaviour,
    subscribes: u64,
    /// The framework's current stream id (`None`: not subscribed).
    current: Option<String>,
    streams: Vec<Stream>,
}

struct Shared {
    state: Mutex<State>,
    name: String,
    calls: mpsc::UnboundedSender<Received>,
}

/// A running fake master on 127.0.0.1.
pub struct FakeMaster {
    /// `127.0.0.1:port`.
    pub addr: String,
    /// Its port.
    pub port: u16,
    shared: Arc<Shared>,
    calls: tokio::sync::Mutex<mpsc::UnboundedReceiver<Received>>,
    accept_loop: tokio::task::JoinHandle<()>,
}

impl Drop for FakeMaster {
    fn drop(&mut self) {
        self.accept_loop.abort();
        self.shared.state.lock().unwrap().streams.clear();
    }
}

impl FakeMaster {
    /// Starts a fake leading master.
    pub async fn start() -> FakeMaster {
        Self::with(Behaviour::default()).await
    }

    /// Starts a fake master that behaves as told.
    pub async fn with(behaviour: Behaviour) -> FakeMaster {
        let rt = TokioRuntime;
        let mut listener = rt
            .bind_tcp("127.0.0.1:0".parse().unwrap())
            .await
            .expect("bind the fake master");
        let addr = listener.local_addr();
        let port = addr.rsplit(':').next().unwrap().parse().unwrap();
        let (calls_tx, calls_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                behaviour,
                subscribes: 0,
                current: None,
                streams: Vec::new(),
            }),
            name: addr.clone(),
            calls: calls_tx,
        });
        let served = shared.clone();
        let accept_loop = tokio::spawn(async move {
            while let Ok(io) = listener.accept().await {
                let shared = served.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(shared.handle(req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
        FakeMaster {
            addr,
            port,
            shared,
            calls: tokio::sync::Mutex::new(calls_rx),
            accept_loop,
        }
    }

    /// The next call it received (any status), or a test failure.
    pub async fn next_call(&self) -> Received {
        let mut calls = self.calls.lock().await;
        match tokio::time::timeout(super::WAIT, calls.recv()).await {
            Ok(Some(call)) => call,
            _ => panic!(
                "fake master {}: no call within {:?}",
                self.addr,
                super::WAIT
            ),
        }
    }

    /// The next call of type `ty` it received, skipping others.
    pub async fn next_call_of(&self, ty: call::Type) -> Received {
        loop {
            let got = self.next_call().await;
            if got.call.r#type() == ty {
                return got;
            }
        }
    }

    /// The stream id of the current subscription.
    pub fn current_stream(&self) -> Option<String> {
        self.shared.state.lock().unwrap().current.clone()
    }

    /// Ends every open event stream (EOF); the framework is then not subscribed.
    pub fn close_streams(&self) {
        let mut state = self.shared.state.lock().unwrap();
        state.streams.clear();
        state.current = None;
    }

    /// Another scheduler took over the framework: the current stream id becomes stale while
    /// its HTTP stream stays open.
    pub fn steal_framework(&self) {
        self.shared.state.lock().unwrap().current = Some("stolen-stream-id".into());
    }

    /// Completes when the client has closed the stream `id`.
    pub async fn stream_closed_by_client(&self, id: &str) {
        let tx = {
            let state = self.shared.state.lock().unwrap();
            let stream = state.streams.iter().find(|s| s.id == id);
            stream.expect("no such stream").tx.clone()
        };
        tokio::time::timeout(super::WAIT, tx.closed())
            .await
            .unwrap_or_else(|_| panic!("the client kept stream {id} open"));
    }
}

type Body = BoxBody<Bytes, Infallible>;

fn answer(status: StatusCode, text: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::from(text.to_string())).boxed())
        .unwrap()
}

fn header(req: &Request<Incoming>, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

impl Shared {
    async fn handle(&self, req: Request<Incoming>) -> Response<Body> {
        if req.method() != Method::POST {
            return answer(StatusCode::METHOD_NOT_ALLOWED, "");
        }
        if !matches!(
            req.uri().path(),
            "/master/api/v1/scheduler" | "/api/v1/scheduler"
        ) {
            return answer(StatusCode::NOT_FOUND, "");
        }
        let redirect = self.state.lock().unwrap().behaviour.redirect_to.clone();
        let content_type = header(&req, "content-type");
        let stream_id = header(&req, "mesos-stream-id");
        let authorization = header(&req, "authorization");
        let accept = header(&req, "accept");
        let body = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let Ok(call) = Call::decode(body) else {
            return answer(
                StatusCode::BAD_REQUEST,
                "Failed to parse body into Call protobuf",
            );
        };
        let (status, response) = if let Some(location) = redirect {
            let r = Response::builder()
                .status(StatusCode::TEMPORARY_REDIRECT)
                .header("Location", location)
                .body(Full::new(Bytes::new()).boxed())
                .unwrap();
            (307, r)
        } else {
            match content_type.as_deref() {
                None => (
                    400,
                    answer(
                        StatusCode::BAD_REQUEST,
                        "Expecting 'Content-Type' to be present",
                    ),
                ),
                Some(PROTOBUF) => self.dispatch(&call, stream_id.as_deref(), accept.as_deref()),
                Some(_) => (415, answer(StatusCode::UNSUPPORTED_MEDIA_TYPE, "")),
            }
        };
        let _ = self.calls.send(Received {
            call,
            stream_id,
            authorization,
            accept,
            status,
        });
        response
    }

    fn dispatch(
        &self,
        call: &Call,
        stream_id: Option<&str>,
        accept: Option<&str>,
    ) -> (u16, Response<Body>) {
        let mut state = self.state.lock().unwrap();
        if call.r#type() == call::Type::Subscribe {
            if state.behaviour.unavailable_subscribes > 0 {
                state.behaviour.unavailable_subscribes -= 1;
                return (
                    503,
                    answer(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Master has not finished recovery",
                    ),
                );
            }
            if !accept.is_some_and(|a| a.contains(PROTOBUF)) {
                return (
                    406,
                    answer(
                        StatusCode::NOT_ACCEPTABLE,
                        "expected Accept: application/x-protobuf",
                    ),
                );
            }
            if stream_id.is_some() {
                return (
                    400,
                    answer(
                        StatusCode::BAD_REQUEST,
                        "Subscribe calls should not include the 'Mesos-Stream-Id' header",
                    ),
                );
            }
            state.subscribes += 1;
            let id = format!("{}-stream-{}", self.name, state.subscribes);
            let (tx, rx) = mpsc::unbounded_channel();
            let mut wire = Vec::new();
            for event in first_events(&self.name, state.subscribes) {
                recordio::encode(&event.encode_to_vec(), &mut wire);
            }
            let chunk = match state.behaviour.chunk_bytes {
                0 => wire.len(),
                n => n,
            };
            for piece in wire.chunks(chunk) {
                let _ = tx.send(Bytes::copy_from_slice(piece));
            }
            state.current = Some(id.clone());
            state.streams.push(Stream { id: id.clone(), tx });
            let frames = futures_util::stream::unfold(rx, |mut rx| async move {
                let data = rx.recv().await?;
                Some((Ok::<_, Infallible>(Frame::data(data)), rx))
            });
            let response = Response::builder()
                .status(StatusCode::OK)
                .header("Content-Type", PROTOBUF)
                .header("Mesos-Stream-Id", id)
                .body(StreamBody::new(frames).boxed())
                .unwrap();
            return (200, response);
        }
        let Some(current) = state.current.clone() else {
            return (
                403,
                answer(StatusCode::FORBIDDEN, "Framework is not subscribed"),
            );
        };
        let Some(given) = stream_id else {
            return (
                400,
                answer(
                    StatusCode::BAD_REQUEST,
                    "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
                ),
            );
        };
        if given != current {
            let text = format!(
                "The stream ID '{given}' included in this request didn't match the stream ID currently associated with framework ID {FRAMEWORK_ID}"
            );
            return (400, answer(StatusCode::BAD_REQUEST, &text));
        }
        (202, answer(StatusCode::ACCEPTED, ""))
    }
}

/// SUBSCRIBED, HEARTBEAT and one OFFERS, as a real master sends them first.
fn first_events(master: &str, n: u64) -> Vec<Event> {
    let port: u32 = master.rsplit(':').next().unwrap().parse().unwrap();
    let subscribed = Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: FrameworkId {
                value: FRAMEWORK_ID.into(),
            },
            heartbeat_interval_seconds: Some(Duration::from_secs(15).as_secs_f64()),
            master_info: Some(MasterInfo {
                id: format!("master-{port}"),
                ip: 16_777_343,
                port,
                hostname: Some("127.0.0.1".into()),
                version: Some("1.11.0".into()),
                ..Default::default()
            }),
        }),
        ..Default::default()
    };
    let heartbeat = Event {
        r#type: Some(event::Type::Heartbeat as i32),
        ..Default::default()
    };
    let scalar = |name: &str, v: f64| Resource {
        name: name.into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value: v }),
        ..Default::default()
    };
    let offers = Event {
        r#type: Some(event::Type::Offers as i32),
        offers: Some(event::Offers {
            offers: vec![Offer {
                id: OfferId {
                    value: format!("offer-{port}-{n}"),
                },
                framework_id: FrameworkId {
                    value: FRAMEWORK_ID.into(),
                },
                agent_id: AgentId {
                    value: "agent-1".into(),
                },
                hostname: "agent-1.example".into(),
                resources: vec![scalar("cpus", 4.0), scalar("mem", 8192.0)],
                ..Default::default()
            }],
        }),
        ..Default::default()
    };
    vec![subscribed, heartbeat, offers]
}
