//! The shell's side of the link to the master, as the world plays it: one subscription at
//! a time, reconnects with backoff, requests sent again when their HTTP send failed, and
//! the packets that arrive from the network handed to the master or the manager.

use std::time::Duration;

use mesoswarm_core::manager::Input;
use mesoswarm_core::time::Instant;
use mesoswarm_proto::scheduler::{call::Type as CallType, event::Type as EventType};

use super::World;
use crate::cluster::ClusterOutput;
use crate::network::Packet;

/// Where the shell's subscription stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum LinkState {
    Idle,
    Connecting(u64),
    Open { stream: String },
}

/// The shell's connection logic: one subscription at a time, reconnect with backoff.
#[derive(Debug)]
pub(super) struct Link {
    pub(super) state: LinkState,
    pub(super) conn: u64,
    pub(super) reconnect_at: Option<Instant>,
    pub(super) backoff_ms: u64,
}

impl World {
    pub(super) fn link_send(&mut self, call: Box<mesoswarm_proto::scheduler::Call>) {
        if call.r#type == Some(CallType::Subscribe as i32) {
            if let LinkState::Connecting(conn) = self.link.state {
                self.send_packet(Packet::Subscribe { conn, call });
            }
            return;
        }
        if let LinkState::Open { stream } = &self.link.state {
            let stream = stream.clone();
            self.send_packet(Packet::Call { stream, call });
        }
    }

    /// Sends a request; a SUBSCRIBE that never reaches the master fails shortly after (the
    /// HTTP request errors), and the shell reconnects.
    pub(super) fn send_packet(&mut self, p: Packet) {
        if !self.net.send_up(self.now, p.clone()) {
            let ms = 200 + self.rng.below(2_000);
            self.failed_subscribes
                .push(self.now.saturating_add(Duration::from_millis(ms)), p);
        }
    }

    pub(super) fn subscribe_failed(&mut self, p: Packet) {
        if let Packet::Subscribe { conn, .. } = p {
            if self.core.is_some() && self.link.state == LinkState::Connecting(conn) {
                self.link.state = LinkState::Idle;
                self.lost_link("SUBSCRIBE failed: connection reset".into());
            }
        }
    }

    /// Closes our side of the subscription, if any.
    pub(super) fn hang_up(&mut self) {
        if let LinkState::Open { stream } = std::mem::replace(&mut self.link.state, LinkState::Idle)
        {
            self.net.send_up(self.now, Packet::Hangup { stream });
        }
    }

    pub(super) fn schedule_reconnect(&mut self) {
        let jitter = self.rng.below(self.link.backoff_ms / 2 + 1);
        self.link.reconnect_at = Some(
            self.now
                .saturating_add(Duration::from_millis(self.link.backoff_ms + jitter)),
        );
        self.link.backoff_ms = (self.link.backoff_ms * 2).min(15_000);
    }

    pub(super) fn reconnect(&mut self) {
        self.link.reconnect_at = None;
        if self.core.is_none() || self.link.state != LinkState::Idle {
            return;
        }
        self.link.conn += 1;
        self.link.state = LinkState::Connecting(self.link.conn);
        let master = format!(
            "{}:{}",
            self.cluster.config().hostname,
            self.cluster.config().port
        );
        self.feed(Input::Connected { master });
    }

    pub(super) fn lost_link(&mut self, reason: String) {
        self.hang_up();
        self.link.state = LinkState::Idle;
        self.feed(Input::Disconnected { reason });
        self.schedule_reconnect();
    }

    pub(super) fn deliver(&mut self, p: Packet) {
        let now = self.now;
        match p {
            Packet::Subscribe { conn, call } => {
                let result = self.cluster.http_subscribe(now, *call);
                self.net.send_down(now, Packet::Subscribed { conn, result });
                self.drain_cluster();
            }
            Packet::Call { stream, call } => {
                let kind = call.r#type;
                let result = self.cluster.http_call(now, Some(&stream), *call);
                if let Err(e) = &result {
                    if e.message.starts_with("Failed to validate") || e.status == 501 {
                        self.fail(
                            "calls valid for the master",
                            format!("call {kind:?} rejected: {e}"),
                        );
                    }
                }
                self.net.send_down(now, Packet::Answer { stream, result });
                self.drain_cluster();
            }
            Packet::Hangup { stream } => {
                self.cluster.http_disconnected(now, &stream);
                self.drain_cluster();
            }
            Packet::Subscribed { conn, result } => {
                let ours = self.core.is_some() && self.link.state == LinkState::Connecting(conn);
                match (ours, result) {
                    (true, Ok(stream)) => self.link.state = LinkState::Open { stream },
                    (true, Err(e)) => {
                        self.link.state = LinkState::Idle;
                        self.lost_link(format!("SUBSCRIBE failed: {e}"));
                    }
                    (false, Ok(stream)) => {
                        self.net.send_up(now, Packet::Hangup { stream });
                    }
                    (false, Err(_)) => {}
                }
            }
            Packet::Event { stream, event } => {
                if self.link.state == (LinkState::Open { stream }) {
                    if event.r#type == Some(EventType::Subscribed as i32) {
                        self.link.backoff_ms = 1_000;
                    }
                    self.feed(Input::MesosEvent(event));
                }
            }
            Packet::Close { stream } => {
                if self.link.state == (LinkState::Open { stream }) {
                    self.link.state = LinkState::Idle;
                    self.lost_link("the subscription stream ended".into());
                }
            }
            Packet::Answer { stream, result } => {
                if let Err(e) = result {
                    let ours = self.link.state == LinkState::Open { stream };
                    if ours && matches!(e.status, 400 | 403 | 503) {
                        self.lost_link(format!("a call was refused: {e}"));
                    }
                }
            }
        }
    }

    pub(super) fn drain_cluster(&mut self) {
        while let Some(o) = self.cluster.poll_output() {
            match o {
                ClusterOutput::Event { stream, event } => self
                    .net
                    .send_down(self.now, Packet::Event { stream, event }),
                ClusterOutput::CloseStream { stream } => {
                    self.net.send_down(self.now, Packet::Close { stream })
                }
                ClusterOutput::Launch { .. } | ClusterOutput::Kill { .. } => {}
            }
        }
    }
}
