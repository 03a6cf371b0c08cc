//! The Docker engine calls of the dev agent (`engine_agent`), each with a time limit, and
//! each engine answer turned into what a user needs to read: the engine's own message.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};

use crate::dev::engine_task::CreateRequest;
use crate::engine::client::read_whole;
use crate::engine::{empty_body, EngineAddr, EngineClient, EngineError, EngineLimits};
use crate::runtime::{timeout, Runtime};

/// The newest engine API the agent speaks (Mesos 1.11's agents run Docker 20.10).
pub const MAX_ENGINE_API_VERSION: (u32, u32) = (1, 41);
/// Limit of each engine call (the wait's body excepted).
pub const ENGINE_CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// A stop may take its grace period and then this long for the SIGKILL and the answer.
pub const STOP_SLACK: Duration = Duration::from_secs(30);
/// Limit of an image pull, progress included.
pub const PULL_TIMEOUT: Duration = Duration::from_secs(600);
/// A longer line of pull progress is skipped (its error, if any, is not understood).
const MAX_PULL_LINE_BYTES: usize = 64 << 10;
/// Largest error answer read from a pull.
const MAX_ERROR_BYTES: usize = 64 << 10;

/// How one wait for a container's exit ended.
pub(crate) enum WaitAnswer {
    /// It exited with this code.
    Exited(i64),
    /// The engine has no such container (any more).
    Gone(String),
    /// The wait failed; asking again may work.
    Failed(String),
}

/// One Docker engine, as the dev agent uses it.
pub(crate) struct Engine<R: Runtime> {
    rt: R,
    client: EngineClient<R>,
    addr: EngineAddr,
}

impl<R: Runtime> Engine<R> {
    pub(crate) fn new(rt: R, addr: EngineAddr, tls: Option<crate::engine::tls::EngineTls>) -> Self {
        Engine {
            client: EngineClient::new(rt.clone(), EngineLimits::default()).with_tls(tls),
            rt,
            addr,
        }
    }

    pub(crate) fn addr(&self) -> &EngineAddr {
        &self.addr
    }

    /// The engine's own API version (from `/_ping`).
    pub(crate) async fn version(&self) -> Result<(u32, u32), EngineError> {
        self.client.api_version(&self.addr).await
    }

    /// `/v1.xx`: the engine's version, at most the one the agent speaks.
    pub(crate) async fn prefix(&self) -> Result<String, String> {
        let version = self.version().await.map_err(|e| {
            self.client.forget(&self.addr);
            e.to_string()
        })?;
        let (major, minor) = version.min(MAX_ENGINE_API_VERSION);
        Ok(format!("/v{major}.{minor}"))
    }

    /// Creates the container; pulls its image once if the engine does not have it (as the
    /// Docker containerizer does). Returns the engine-side id.
    pub(crate) async fn create(&self, prefix: &str, req: &CreateRequest) -> Result<String, String> {
        let path = format!("{prefix}/containers/create?name={}", req.name);
        let mut pulled = false;
        loop {
            let answer = self
                .call(Method::POST, &path, Some(&req.body), ENGINE_CALL_TIMEOUT)
                .await;
            let (status, body) = match answer {
                Ok(a) => a,
                Err(e) => {
                    if !matches!(e, EngineError::Connect { .. }) {
                        // The engine may have created it without our hearing: do not leave it.
                        self.remove(prefix, &req.name, true).await;
                    }
                    return Err(e.to_string());
                }
            };
            let message = engine_message(&body);
            match status {
                StatusCode::CREATED => {
                    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    for w in v["Warnings"].as_array().into_iter().flatten() {
                        tracing::warn!("creating {}: the engine warns: {w}", req.name);
                    }
                    return v["Id"]
                        .as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("the engine's create answer has no Id: {message}"));
                }
                StatusCode::NOT_FOUND if !pulled && message.starts_with("No such image") => {
                    if let Err(e) = self.pull(prefix, &req.image).await {
                        return Err(format!("{message} (pulling it failed: {e})"));
                    }
                    pulled = true;
                }
                _ => return Err(message),
            }
        }
    }

    /// `docker pull`: the progress streams in; an error may come in it, after a 200.
    async fn pull(&self, prefix: &str, image: &str) -> Result<(), String> {
        let engine = &self.addr;
        let (name, tag) = split_reference(image);
        // Without a tag the engine would pull every tag of the repository.
        let path = format!(
            "{prefix}/images/create?fromImage={}&tag={}",
            query_escape(name),
            query_escape(tag)
        );
        tracing::info!("pulling {image} on the engine at {engine}");
        let pulling = async {
            let req = Request::builder()
                .method(Method::POST)
                .uri(&path)
                .body(empty_body())
                .map_err(|e| e.to_string())?;
            let resp = self
                .client
                .send(engine, req, Some(ENGINE_CALL_TIMEOUT))
                .await
                .map_err(|e| e.to_string())?;
            let status = resp.status();
            let mut body = resp.into_body();
            if !status.is_success() {
                let text = read_whole(engine, body, MAX_ERROR_BYTES)
                    .await
                    .unwrap_or_default();
                return Err(engine_message(&text));
            }
            let mut line: Vec<u8> = Vec::new();
            let mut error = None;
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| format!("reading the pull's progress: {e}"))?;
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                for piece in data.split_inclusive(|b| *b == b'\n') {
                    line.extend_from_slice(piece);
                    if piece.ends_with(b"\n") {
                        error = pull_error(&line).or(error);
                        line.clear();
                    } else if line.len() > MAX_PULL_LINE_BYTES {
                        line.clear();
                    }
                }
            }
            match pull_error(&line).or(error) {
                Some(e) => Err(e),
                None => Ok(()),
            }
        };
        timeout(&self.rt, PULL_TIMEOUT, pulling)
            .await
            .unwrap_or_else(|| Err(format!("it took over {} s", PULL_TIMEOUT.as_secs())))
    }

    pub(crate) async fn start(&self, prefix: &str, id: &str) -> Result<(), String> {
        let path = format!("{prefix}/containers/{id}/start");
        let (status, body) = self
            .call(Method::POST, &path, None, ENGINE_CALL_TIMEOUT)
            .await
            .map_err(|e| e.to_string())?;
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            Ok(())
        } else {
            Err(engine_message(&body))
        }
    }

    /// The `docker inspect` array Mesos' Docker executor puts in TASK_RUNNING's data (the
    /// manager reads the engine-side id from it). Just the id if the inspect fails.
    pub(crate) async fn inspect(&self, prefix: &str, id: &str) -> Vec<u8> {
        let path = format!("{prefix}/containers/{id}/json");
        let fallback = json!([{ "Id": id }]);
        let answer = self
            .call(Method::GET, &path, None, ENGINE_CALL_TIMEOUT)
            .await;
        let array = match answer {
            Ok((StatusCode::OK, body)) => match serde_json::from_slice::<Value>(&body) {
                Ok(v) => json!([v]),
                Err(e) => {
                    tracing::warn!("inspecting container {id}: not JSON ({e})");
                    fallback
                }
            },
            Ok((status, body)) => {
                tracing::warn!(
                    "inspecting container {id} failed: {status}: {}",
                    engine_message(&body)
                );
                fallback
            }
            Err(e) => {
                tracing::warn!("inspecting container {id} failed: {e}");
                fallback
            }
        };
        serde_json::to_vec(&array).unwrap_or_default()
    }

    /// One wait for the container to be not running. The head comes at once, the body when
    /// the container exits: only the head has a deadline.
    pub(crate) async fn wait(&self, prefix: &str, id: &str) -> WaitAnswer {
        let path = format!("{prefix}/containers/{id}/wait");
        let answer = self
            .client
            .call(
                &self.addr,
                Method::POST,
                &path,
                None,
                Some(ENGINE_CALL_TIMEOUT),
            )
            .await;
        match answer {
            Ok((StatusCode::OK, body)) => match exit_code(&body) {
                Some(code) => WaitAnswer::Exited(code),
                None => WaitAnswer::Failed(format!(
                    "the engine's wait answer has no StatusCode: {}",
                    String::from_utf8_lossy(&body)
                )),
            },
            Ok((StatusCode::NOT_FOUND, body)) => WaitAnswer::Gone(engine_message(&body)),
            Ok((status, body)) => {
                WaitAnswer::Failed(format!("{status}: {}", engine_message(&body)))
            }
            Err(e) => {
                self.client.forget(&self.addr);
                WaitAnswer::Failed(e.to_string())
            }
        }
    }

    /// `docker stop -t <grace, rounded up to seconds>`; a SIGKILL if the stop itself fails.
    pub(crate) async fn stop(&self, prefix: &str, id: &str, grace: Duration) {
        let secs = grace.as_millis().div_ceil(1000);
        let path = format!("{prefix}/containers/{id}/stop?t={secs}");
        let why = match self
            .call(Method::POST, &path, None, grace + STOP_SLACK)
            .await
        {
            // 304: it had already stopped; 404: it is gone. Either way it is not running.
            Ok((s, _)) if s.is_success() || s == StatusCode::NOT_MODIFIED => return,
            Ok((StatusCode::NOT_FOUND, _)) => return,
            Ok((status, body)) => format!("{status}: {}", engine_message(&body)),
            Err(e) => e.to_string(),
        };
        tracing::warn!("stopping container {id} failed ({why}): killing it");
        let path = format!("{prefix}/containers/{id}/kill");
        match self
            .call(Method::POST, &path, None, ENGINE_CALL_TIMEOUT)
            .await
        {
            // 409: it is not running any more.
            Ok((s, _)) if s.is_success() || s == StatusCode::CONFLICT => {}
            Ok((status, body)) => tracing::warn!(
                "killing container {id} failed: {status}: {}",
                engine_message(&body)
            ),
            Err(e) => tracing::warn!("killing container {id} failed: {e}"),
        }
    }

    /// `docker rm -v [-f]`; a container already gone is fine.
    pub(crate) async fn remove(&self, prefix: &str, id: &str, force: bool) {
        let force = if force { "&force=1" } else { "" };
        let path = format!("{prefix}/containers/{id}?v=1{force}");
        match self
            .call(Method::DELETE, &path, None, ENGINE_CALL_TIMEOUT)
            .await
        {
            Ok((s, _)) if s.is_success() || s == StatusCode::NOT_FOUND => {}
            Ok((status, body)) => tracing::warn!(
                "removing container {id} failed: {status}: {}",
                engine_message(&body)
            ),
            Err(e) => tracing::warn!("removing container {id} failed: {e}"),
        }
    }

    /// One engine call, whole answer, within `limit`.
    async fn call(
        &self,
        method: Method,
        path: &str,
        json: Option<&Value>,
        limit: Duration,
    ) -> Result<(StatusCode, Bytes), EngineError> {
        let engine = &self.addr;
        let answer = timeout(
            &self.rt,
            limit,
            self.client.call(engine, method, path, json, Some(limit)),
        )
        .await
        .unwrap_or_else(|| {
            Err(EngineError::Timeout {
                addr: engine.clone(),
                what: "answer",
                after: limit,
            })
        });
        if answer.is_err() {
            // The engine may have restarted: ask its version again, on fresh connections.
            self.client.forget(engine);
        }
        answer
    }
}

/// The `message` of an engine's error answer, else its text.
pub fn engine_message(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string())
}

/// `StatusCode` of a wait answer.
fn exit_code(body: &[u8]) -> Option<i64> {
    serde_json::from_slice::<Value>(body).ok()?["StatusCode"].as_i64()
}

/// The error in one line of pull progress, if it is one.
fn pull_error(line: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(line).ok()?;
    v["error"]
        .as_str()
        .or_else(|| v["errorDetail"]["message"].as_str())
        .map(str::to_string)
}

/// `registry:5000/team/app:1.2` → (`registry:5000/team/app`, `1.2`); a digest is the "tag"
/// the pull API takes; no tag means `latest`.
pub fn split_reference(image: &str) -> (&str, &str) {
    if let Some((name, digest)) = image.split_once('@') {
        return (name, digest);
    }
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].rfind(':') {
        Some(i) => (&image[..last_slash + i], &image[last_slash + i + 1..]),
        None => (image, "latest"),
    }
}

/// Percent-encodes a query value (image references only hold a few reserved characters).
fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_name_and_tag_or_digest() {
        assert_eq!(split_reference("busybox"), ("busybox", "latest"));
        assert_eq!(split_reference("busybox:1.36"), ("busybox", "1.36"));
        assert_eq!(
            split_reference("registry:5000/team/app"),
            ("registry:5000/team/app", "latest")
        );
        assert_eq!(
            split_reference("registry:5000/team/app:2"),
            ("registry:5000/team/app", "2")
        );
        assert_eq!(split_reference("app@sha256:abcd"), ("app", "sha256:abcd"));
        assert_eq!(query_escape("a/b:c d+e"), "a/b:c%20d%2Be");
    }

    #[test]
    fn engine_answers_are_read_for_what_users_need() {
        assert_eq!(
            engine_message(br#"{"message":"No such image: x:latest"}"#),
            "No such image: x:latest"
        );
        assert_eq!(engine_message(b"plain text\n"), "plain text");
        assert_eq!(exit_code(br#"{"Error":null,"StatusCode":3}"#), Some(3));
        assert_eq!(exit_code(b"{}"), None);
        assert_eq!(
            pull_error(br#"{"errorDetail":{"message":"denied"},"error":"denied"}"#),
            Some("denied".into())
        );
        assert_eq!(pull_error(br#"{"status":"Downloading"}"#), None);
    }
}
