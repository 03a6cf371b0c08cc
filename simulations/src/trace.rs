//! The trace hash: FNV-1a 64 over a canonical byte encoding of every input fed to the
//! manager and every output it produced, with the virtual time of each input. Two runs of
//! the same seed must give the same hash; any divergence anywhere changes it.
//!
//! Mesos events and calls are hashed as their protobuf encoding (OFFERS field by field);
//! Docker requests, records
//! and Docker events by their `Debug` text (their maps are ordered); Docker answers that
//! carry bollard models through a `serde_json::Value`, whose objects are sorted, so the
//! `HashMap`s inside those models cannot make the hash depend on iteration order.

use mesoswarm_core::docker::response::DockerResponse;
use mesoswarm_core::manager::{Input, Output};
use mesoswarm_core::time::Instant;
use mesoswarm_proto::scheduler::event::Type as EventType;
use mesoswarm_proto::v1::Offer;
use prost::Message;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// A running FNV-1a 64 hash.
#[derive(Clone, Debug)]
pub struct TraceHash {
    state: u64,
    /// Reused encoding buffer.
    buf: Vec<u8>,
}

impl Default for TraceHash {
    fn default() -> Self {
        TraceHash {
            state: FNV_OFFSET,
            buf: Vec::new(),
        }
    }
}

impl TraceHash {
    /// The hash of nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Mixes in bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        let mut h = self.state;
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(FNV_PRIME);
        }
        self.state = h;
    }

    /// Mixes in a length-prefixed byte string (so concatenations cannot collide).
    pub fn write_field(&mut self, bytes: &[u8]) {
        self.write(&(bytes.len() as u64).to_le_bytes());
        self.write(bytes);
    }

    /// Mixes in a number.
    pub fn write_u64(&mut self, v: u64) {
        self.write(&v.to_le_bytes());
    }

    /// The hash so far.
    pub fn value(&self) -> u64 {
        self.state
    }

    /// Mixes in a protobuf message's encoding.
    fn write_message(&mut self, m: &impl Message) {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        m.encode(&mut buf).ok();
        self.write_field(&buf);
        self.buf = buf;
    }

    /// Mixes in one input to the manager, at its time.
    pub fn input(&mut self, now: Instant, input: &Input) {
        self.write_u64(now.unix_nanos());
        match input {
            Input::Connected { master } => {
                self.write(&[1]);
                self.write_field(master.as_bytes());
            }
            Input::Disconnected { reason } => {
                self.write(&[2]);
                self.write_field(reason.as_bytes());
            }
            Input::MesosEvent(e) => match &e.offers {
                // OFFERS can carry thousands of offers: hashed field by field, which is
                // as canonical as their protobuf encoding and much cheaper.
                Some(o) if e.r#type == Some(EventType::Offers as i32) => {
                    self.write(&[8]);
                    self.write_u64(o.offers.len() as u64);
                    for offer in &o.offers {
                        self.offer(offer);
                    }
                }
                _ => {
                    self.write(&[3]);
                    self.write_message(e.as_ref());
                }
            },
            Input::Docker { id, request } => {
                self.write(&[4]);
                self.write_u64(*id);
                self.write_field(format!("{request:?}").as_bytes());
            }
            Input::DockerGone { id } => {
                self.write(&[5]);
                self.write_u64(*id);
            }
            Input::Persisted { up_to } => {
                self.write(&[6]);
                self.write_u64(*up_to);
            }
            Input::Timeout => self.write(&[7]),
        }
    }

    fn offer(&mut self, o: &Offer) {
        fn role(a: Option<&mesoswarm_proto::v1::resource::AllocationInfo>) -> &[u8] {
            a.and_then(|a| a.role.as_deref()).unwrap_or("").as_bytes()
        }
        self.write_field(o.id.value.as_bytes());
        self.write_field(o.framework_id.value.as_bytes());
        self.write_field(o.agent_id.value.as_bytes());
        self.write_field(o.hostname.as_bytes());
        self.write_field(role(o.allocation_info.as_ref()));
        self.write_u64(o.resources.len() as u64);
        for r in &o.resources {
            self.write_field(r.name.as_bytes());
            self.write_u64(r.r#type as u64);
            self.write_field(crate::resources::role_of(r).as_bytes());
            self.write_field(role(r.allocation_info.as_ref()));
            if let Some(sc) = r.scalar {
                self.write_u64(sc.value.to_bits());
            }
            for range in r.ranges.iter().flat_map(|x| &x.range) {
                self.write_u64(range.begin);
                self.write_u64(range.end);
            }
            self.write_u64(r.reservations.len() as u64);
        }
        self.write_u64(o.attributes.len() as u64);
        for a in &o.attributes {
            self.write_field(a.name.as_bytes());
            self.write_field(a.text.as_ref().map_or(&[][..], |t| t.value.as_bytes()));
        }
        if let Some(u) = &o.unavailability {
            self.write_u64(u.start.nanoseconds as u64);
            self.write_u64(u.duration.map_or(0, |d| d.nanoseconds as u64));
        }
    }

    /// Mixes in one output of the manager.
    pub fn output(&mut self, output: &Output) {
        match output {
            Output::Call(c) => {
                self.write(&[16]);
                self.write_message(c.as_ref());
            }
            Output::Reconnect { reason } => {
                self.write(&[17]);
                self.write_field(reason.as_bytes());
            }
            Output::Docker { id, response } => {
                self.write(&[18]);
                self.write_u64(*id);
                self.write_field(canonical_response(response).as_bytes());
            }
            Output::Event(e) => {
                self.write(&[19]);
                self.write_field(format!("{e:?}").as_bytes());
            }
            Output::Persist { seq, record } => {
                self.write(&[20]);
                self.write_u64(*seq);
                self.write_field(format!("{record:?}").as_bytes());
            }
            Output::Log { level, message } => {
                self.write(&[21, *level as u8]);
                self.write_field(message.as_bytes());
            }
        }
    }
}

/// A Docker answer as text that does not depend on hash map iteration order.
pub fn canonical_response(r: &DockerResponse) -> String {
    fn json<T: serde::Serialize>(v: &T) -> String {
        serde_json::to_value(v)
            .map(|v| v.to_string())
            .unwrap_or_default()
    }
    match r {
        DockerResponse::Inspect(i) => format!("Inspect({})", json(i)),
        DockerResponse::List(l) => format!("List({})", json(l)),
        DockerResponse::Info(i) => format!("Info({})", json(i)),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_values() {
        let mut h = TraceHash::new();
        assert_eq!(h.value(), 0xcbf29ce484222325);
        h.write(b"a");
        assert_eq!(h.value(), 0xaf63dc4c8601ec8c);
        let mut h = TraceHash::new();
        h.write(b"foobar");
        assert_eq!(h.value(), 0x85944171f73967e8);
    }
}
