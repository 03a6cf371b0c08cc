//! Every call but SUBSCRIBE: sent one at a time, in order, on a keep-alive connection of
//! its own, with the stream's `Mesos-Stream-Id`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use mesoswarm_proto::scheduler::Call;
use prost::Message as _;

use super::http::{self as h, Conn};
use super::masters::MasterAddr;
use super::session::{Internal, Settings};
use super::MAX_ERROR_BODY_BYTES;
use crate::runtime::{timeout, Runtime};

/// A call waiting for the call connection.
pub(crate) struct QueuedCall {
    /// The link epoch it belongs to; dropped if the link has moved on.
    pub(crate) epoch: u64,
    /// The master holding our stream.
    pub(crate) master: MasterAddr,
    /// The stream's id.
    pub(crate) stream_id: String,
    /// The call.
    pub(crate) call: Box<Call>,
}

/// What an answer means for the link.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// `202` (or `200`): queued by the master.
    Accepted,
    /// Refused, but the stream is fine (a bad call): log it.
    Rejected,
    /// The stream is dead (stale id, not subscribed, not the leader any more): reconnect.
    StreamDead,
}

/// Classifies a call's answer (`reference/mesos-v1-api.md` §1.2, §1.6).
pub(crate) fn classify(status: StatusCode, body: &str) -> Verdict {
    match status.as_u16() {
        200 | 202 => Verdict::Accepted,
        400 if body.contains("didn't match the stream ID")
            || body.contains("should include the 'Mesos-Stream-Id'") =>
        {
            Verdict::StreamDead
        }
        403 if body.contains("not subscribed") => Verdict::StreamDead,
        // A master that is not (or no longer) the leader: our stream on it is over.
        307 | 503 => Verdict::StreamDead,
        _ => Verdict::Rejected,
    }
}

/// The call's type name (`DECLINE`), for logs.
pub(crate) fn call_name(call: &Call) -> &'static str {
    call.r#type().as_str_name()
}

/// Sends queued calls until the queue closes.
pub(crate) async fn run<R: Runtime>(
    rt: R,
    settings: Arc<Settings>,
    queue: async_channel::Receiver<QueuedCall>,
    current_epoch: Arc<AtomicU64>,
    internal: async_channel::Sender<Internal>,
) {
    let mut conn: Option<Conn> = None;
    while let Ok(item) = queue.recv().await {
        let name = call_name(&item.call);
        if item.epoch != current_epoch.load(Ordering::SeqCst) {
            tracing::debug!(
                call = name,
                "dropping a {name} call queued for a stream that is gone"
            );
            continue;
        }
        let (status, text) = match send(&rt, &settings, &mut conn, &item).await {
            Ok(answer) => answer,
            Err(e) => {
                conn = None;
                tracing::warn!(call = name, master = %item.master, error = %e, "Mesos call {name} failed: {e}");
                continue;
            }
        };
        match classify(status, &text) {
            Verdict::Accepted => {
                tracing::trace!(call = name, status = %status, "Mesos call {name} accepted")
            }
            Verdict::Rejected => tracing::error!(
                call = name, status = %status, body = %text, master = %item.master,
                "Mesos master rejected the {name} call: {}", h::describe(status, &text)
            ),
            Verdict::StreamDead => {
                let reason = format!(
                    "the {name} call was refused because the stream is no longer current: {}",
                    h::describe(status, &text)
                );
                tracing::warn!(call = name, status = %status, body = %text, "{reason}");
                let dead = Internal::StreamDead {
                    epoch: item.epoch,
                    reason,
                };
                if internal.send(dead).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// POSTs one call (on the kept connection if it still goes to the right master) and
/// returns the status and body text. A kept connection the master closed while idle is
/// replaced once, before anything was sent on it.
async fn send<R: Runtime>(
    rt: &R,
    settings: &Settings,
    conn: &mut Option<Conn>,
    item: &QueuedCall,
) -> Result<(StatusCode, String), String> {
    let config = &settings.config;
    let body = Bytes::from(item.call.encode_to_vec());
    let mut fresh = false;
    let c = loop {
        let reusable = matches!(conn, Some(c) if c.addr == item.master && !c.sender.is_closed());
        if !reusable {
            *conn = Some(h::connect(rt, &item.master, config.connect_timeout).await?);
            fresh = true;
        }
        let Some(c) = conn.as_mut() else {
            return Err("no connection".into());
        };
        match timeout(rt, config.call_timeout, c.sender.ready()).await {
            Some(Ok(())) => break c,
            Some(Err(_)) if !fresh => *conn = None,
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err(format!("no connection within {:?}", config.call_timeout)),
        }
    };
    let req = h::post(
        &item.master,
        body,
        Some(&item.stream_id),
        settings.auth.as_ref(),
    )?;
    timeout(rt, config.call_timeout, async {
        let answer = c
            .sender
            .send_request(req)
            .await
            .map_err(|e| e.to_string())?;
        let status = answer.status();
        let text = h::body_text(answer.into_body(), MAX_ERROR_BODY_BYTES).await;
        Ok((status, text))
    })
    .await
    .unwrap_or_else(|| Err(format!("no answer within {:?}", config.call_timeout)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let v = |code: u16, body: &str| classify(StatusCode::from_u16(code).unwrap(), body);
        assert_eq!(v(202, ""), Verdict::Accepted);
        assert_eq!(v(200, ""), Verdict::Accepted);
        assert_eq!(
            v(400, "The stream ID 'a' included in this request didn't match the stream ID currently associated with framework ID f"),
            Verdict::StreamDead
        );
        assert_eq!(v(403, "Framework is not subscribed"), Verdict::StreamDead);
        assert_eq!(v(307, ""), Verdict::StreamDead);
        assert_eq!(v(503, "No leader elected"), Verdict::StreamDead);
        assert_eq!(
            v(
                400,
                "Failed to validate scheduler::Call: Expecting 'accept' to be present"
            ),
            Verdict::Rejected
        );
        assert_eq!(v(400, "Framework cannot be found"), Verdict::Rejected);
        assert_eq!(v(415, ""), Verdict::Rejected);
    }
}
