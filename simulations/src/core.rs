//! The core under test, behind a small trait, so that the simulator can also run
//! deliberately broken variants and prove that its checkers catch them.

use mesoswarm_core::manager::{Input, Manager, Output, Record};
use mesoswarm_core::time::Instant;
use mesoswarm_core::Config;
use mesoswarm_proto::scheduler::call::Type;
use std::collections::VecDeque;

/// A manager as the simulator drives it.
pub trait SimCore {
    /// Feeds one input.
    fn handle(&mut self, now: Instant, input: Input);
    /// The next output.
    fn poll_output(&mut self) -> Option<Output>;
    /// The next deadline.
    fn poll_timeout(&self) -> Option<Instant>;
    /// The manager inside, for inspection.
    fn manager(&self) -> &Manager;
}

impl SimCore for Manager {
    fn handle(&mut self, now: Instant, input: Input) {
        Manager::handle(self, now, input)
    }
    fn poll_output(&mut self) -> Option<Output> {
        Manager::poll_output(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Manager::poll_timeout(self).map(|(at, _)| at)
    }
    fn manager(&self) -> &Manager {
        self
    }
}

/// Which core a simulation runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum CoreKind {
    /// `mesoswarm_core::Manager` as it is.
    #[default]
    Real,
    /// Broken on purpose: every ACCEPT leaves twice, so an offer is used twice.
    DoubleAccept,
    /// Broken on purpose: about a quarter of the acknowledgements (by uuid) never leave.
    DropAck,
    /// Broken on purpose: tells itself every record is durable as soon as it emits it, so
    /// launches and acknowledgements leave before the store has their records.
    EarlyDurable,
}

impl CoreKind {
    /// Every kind, by name.
    pub const ALL: [(&'static str, CoreKind); 4] = [
        ("real", CoreKind::Real),
        ("double-accept", CoreKind::DoubleAccept),
        ("drop-ack", CoreKind::DropAck),
        ("early-durable", CoreKind::EarlyDurable),
    ];

    /// The kind with this name.
    pub fn parse(s: &str) -> Result<CoreKind, String> {
        CoreKind::ALL
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                format!("unknown core `{s}` (real, double-accept, drop-ack, early-durable)")
            })
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        CoreKind::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("real", |(n, _)| n)
    }

    /// A new core of this kind, fresh or restored from a store's records.
    pub fn build(self, config: Config, records: Option<Vec<Record>>) -> Box<dyn SimCore> {
        let m = match records {
            Some(r) => Manager::restore(config, r),
            None => Manager::new(config),
        };
        match self {
            CoreKind::Real => Box::new(m),
            CoreKind::DoubleAccept | CoreKind::DropAck | CoreKind::EarlyDurable => {
                Box::new(Broken {
                    m,
                    kind: self,
                    extra: VecDeque::new(),
                    now: Instant::default(),
                })
            }
        }
    }
}

/// A wrapper that breaks the manager's outputs in one specific way.
struct Broken {
    m: Manager,
    kind: CoreKind,
    extra: VecDeque<Output>,
    now: Instant,
}

impl SimCore for Broken {
    fn handle(&mut self, now: Instant, input: Input) {
        self.now = now;
        if self.kind == CoreKind::EarlyDurable && matches!(input, Input::Persisted { .. }) {
            return; // it already believed so
        }
        self.m.handle(now, input)
    }

    fn poll_output(&mut self) -> Option<Output> {
        if let Some(o) = self.extra.pop_front() {
            return Some(o);
        }
        loop {
            let o = self.m.poll_output()?;
            if let (CoreKind::EarlyDurable, Output::Persist { seq, .. }) = (self.kind, &o) {
                let up_to = *seq;
                self.m.handle(self.now, Input::Persisted { up_to });
                return Some(o);
            }
            let Output::Call(c) = &o else { return Some(o) };
            let kind = c.r#type.and_then(|t| Type::try_from(t).ok());
            match (self.kind, kind) {
                (CoreKind::DoubleAccept, Some(Type::Accept)) => {
                    self.extra.push_back(o.clone());
                    return Some(o);
                }
                (CoreKind::DropAck, Some(Type::Acknowledge)) => {
                    let dropped = c
                        .acknowledge
                        .as_ref()
                        .is_some_and(|a| a.uuid.first().is_some_and(|b| *b < 64));
                    if !dropped {
                        return Some(o);
                    }
                }
                _ => return Some(o),
            }
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.m.poll_timeout().map(|(at, _)| at)
    }

    fn manager(&self) -> &Manager {
        &self.m
    }
}
