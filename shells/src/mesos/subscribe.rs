//! One subscription: POST the core's SUBSCRIBE (following `307`s to the leader), then read
//! the RecordIO event stream until it ends, reporting to the link task.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::{select, Either};
use http::header::{CONTENT_TYPE, LOCATION};
use http::StatusCode;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use mesoswarm_proto::recordio::Decoder;
use mesoswarm_proto::scheduler::Event;
use prost::Message as _;

use super::http::{self as h, AbortSignal, Conn};
use super::masters::{parse_location, MasterAddr};
use super::session::{Internal, Settings};
use super::MAX_ERROR_BODY_BYTES;
use crate::runtime::{timeout, Runtime};

/// What the link hands to a subscription task.
pub(crate) struct SubscribeJob {
    /// The link's epoch, echoed on every report.
    pub(crate) epoch: u64,
    /// The master the core was told about.
    pub(crate) master: MasterAddr,
    /// The connection opened to it before `Connected`, if still usable.
    pub(crate) conn: Option<Conn>,
    /// The encoded SUBSCRIBE call.
    pub(crate) body: Bytes,
}

/// An open event stream.
struct Stream {
    conn: Conn,
    stream_id: String,
    body: Incoming,
}

/// Runs one subscription to its end (or until `abort` fires) and reports it on `internal`:
/// `Subscribed`, then each `Event`, then `StreamEnded`; or `SubscribeFailed`.
pub(crate) async fn run<R: Runtime>(
    rt: R,
    settings: Arc<Settings>,
    job: SubscribeJob,
    internal: async_channel::Sender<Internal>,
    abort: AbortSignal,
) {
    let epoch = job.epoch;
    let work = async {
        let stream = match open(&rt, &settings, job).await {
            Ok(s) => s,
            Err(reason) => return Some(Internal::SubscribeFailed { epoch, reason }),
        };
        let Stream {
            conn,
            stream_id,
            body,
        } = stream;
        let master = conn.addr.clone();
        let subscribed = Internal::Subscribed {
            epoch,
            master: master.clone(),
            stream_id,
        };
        if internal.send(subscribed).await.is_err() {
            return None;
        }
        let reason = read_events(body, &settings, epoch, &master, &internal).await?;
        drop(conn);
        Some(Internal::StreamEnded { epoch, reason })
    };
    let work = std::pin::pin!(work);
    let aborted = std::pin::pin!(abort.aborted());
    if let Either::Left((Some(report), _)) = select(work, aborted).await {
        let _ = internal.send(report).await;
    }
}

/// POSTs the SUBSCRIBE, following redirects, until a `200` with a stream id.
async fn open<R: Runtime>(
    rt: &R,
    settings: &Settings,
    job: SubscribeJob,
) -> Result<Stream, String> {
    let config = &settings.config;
    let mut master = job.master;
    let mut conn = job.conn;
    for hop in 0..=config.max_redirects {
        let mut c = match conn.take() {
            Some(c) if !c.sender.is_closed() => c,
            _ => h::connect(rt, &master, config.connect_timeout).await?,
        };
        let req = h::post(&master, job.body.clone(), None, settings.auth.as_ref())?;
        let answer = timeout(rt, config.subscribe_timeout, async {
            c.sender.ready().await?;
            c.sender.send_request(req).await
        })
        .await
        .ok_or_else(|| {
            format!(
                "SUBSCRIBE to {master} got no answer within {:?}",
                config.subscribe_timeout
            )
        })?
        .map_err(|e| format!("SUBSCRIBE to {master} failed: {e}"))?;
        let status = answer.status();
        let headers = answer.headers();
        if status == StatusCode::OK {
            let stream_id = headers
                .get(h::STREAM_ID_HEADER)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("SUBSCRIBE to {master}: 200 without a Mesos-Stream-Id"))?
                .to_string();
            let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
            if content_type != Some(h::PROTOBUF) {
                return Err(format!(
                    "SUBSCRIBE to {master}: the event stream is {content_type:?}, not {}",
                    h::PROTOBUF
                ));
            }
            return Ok(Stream {
                conn: c,
                stream_id,
                body: answer.into_body(),
            });
        }
        if status == StatusCode::TEMPORARY_REDIRECT {
            let location = headers
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| format!("SUBSCRIBE to {master}: 307 without a Location"))?;
            let leader = parse_location(location)?;
            if hop == config.max_redirects {
                break;
            }
            tracing::info!(
                from = %master, to = %leader,
                "Mesos master {master} is not the leader; following the redirect to {leader}"
            );
            master = leader;
            continue;
        }
        let text = timeout(
            rt,
            config.subscribe_timeout,
            h::body_text(answer.into_body(), MAX_ERROR_BODY_BYTES),
        )
        .await
        .unwrap_or_default();
        return Err(format!(
            "SUBSCRIBE to {master} answered {}",
            h::describe(status, &text)
        ));
    }
    Err(format!(
        "SUBSCRIBE gave up after {} redirects (last: {master})",
        config.max_redirects
    ))
}

/// Decodes the stream and forwards every event; returns why it ended (`None` if the link
/// is gone).
async fn read_events(
    mut body: Incoming,
    settings: &Settings,
    epoch: u64,
    master: &MasterAddr,
    internal: &async_channel::Sender<Internal>,
) -> Option<String> {
    let mut decoder = Decoder::with_max_record_bytes(settings.config.max_record_bytes);
    loop {
        let frame = match body.frame().await {
            None => {
                return Some(match decoder.finish() {
                    Ok(()) => format!("the event stream from {master} ended"),
                    Err(e) => format!("the event stream from {master} ended: {e}"),
                })
            }
            Some(Err(e)) => return Some(format!("the event stream from {master} failed: {e}")),
            Some(Ok(frame)) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        tracing::trace!(bytes = data.len(), "event stream data");
        decoder.feed(&data);
        loop {
            let record = match decoder.next_record() {
                Ok(Some(record)) => record,
                Ok(None) => break,
                Err(e) => return Some(format!("the event stream from {master} is corrupt: {e}")),
            };
            let event = match Event::decode(record) {
                Ok(event) => event,
                Err(e) => {
                    return Some(format!(
                        "undecodable event on the stream from {master}: {e}"
                    ))
                }
            };
            let event = Internal::Event {
                epoch,
                event: Box::new(event),
            };
            if internal.send(event).await.is_err() {
                return None;
            }
        }
    }
}
