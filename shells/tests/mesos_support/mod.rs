//! Shared by the `mesos_*` tests: a fake Mesos master speaking the v1 scheduler API over
//! real HTTP on loopback, and a handle on a running link.

#![allow(dead_code)]

pub mod fake_master;

use std::time::Duration;

use mesoswarm_proto::scheduler::{call, event, Call};
use mesoswarm_proto::v1::{FrameworkId, FrameworkInfo, OfferId};
use mesoswarm_shell::mesos::{
    spawn_link, BackoffConfig, LinkCommand, LinkEvent, MasterSource, MesosClientConfig,
};
use mesoswarm_shell::runtime::tokio::TokioRuntime;

/// How long a test waits for anything before it fails.
pub const WAIT: Duration = Duration::from_secs(15);

/// Logs to the test's captured output (`RUST_LOG` overrides the filter).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("mesoswarm_shell=debug"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// A client configuration with short backoff delays, so reconnections are quick.
pub fn test_config(masters: MasterSource) -> MesosClientConfig {
    let mut config = MesosClientConfig::new(masters);
    config.backoff = BackoffConfig {
        min: Duration::from_millis(10),
        max: Duration::from_millis(200),
        jitter_seed: Some(1),
    };
    config.connect_timeout = Duration::from_secs(5);
    config.subscribe_timeout = Duration::from_secs(10);
    config.call_timeout = Duration::from_secs(10);
    config
}

/// The driver's side of a running link.
pub struct Link {
    /// Commands to the link.
    pub commands: async_channel::Sender<LinkCommand>,
    /// Events from the link.
    pub events: async_channel::Receiver<LinkEvent>,
}

impl Link {
    /// Starts a link on tokio.
    pub fn start(config: MesosClientConfig) -> Link {
        init_tracing();
        let (commands, commands_rx) = async_channel::bounded(64);
        let (events_tx, events) = async_channel::bounded(64);
        spawn_link(TokioRuntime, config, commands_rx, events_tx);
        Link { commands, events }
    }

    /// The next event, or a test failure after [`WAIT`].
    pub async fn next(&self) -> LinkEvent {
        match tokio::time::timeout(WAIT, self.events.recv()).await {
            Ok(Ok(event)) => event,
            Ok(Err(_)) => panic!("the link closed its event channel"),
            Err(_) => panic!("no link event within {WAIT:?}"),
        }
    }

    /// Expects `Connected` and returns its master.
    pub async fn connected(&self) -> String {
        match self.next().await {
            LinkEvent::Connected { master } => master,
            other => panic!("expected Connected, got {other:?}"),
        }
    }

    /// Expects `Disconnected` and returns its reason.
    pub async fn disconnected(&self) -> String {
        match self.next().await {
            LinkEvent::Disconnected { reason } => reason,
            other => panic!("expected Disconnected, got {other:?}"),
        }
    }

    /// Expects a Mesos event of type `ty`.
    pub async fn event(&self, ty: event::Type) -> mesoswarm_proto::scheduler::Event {
        match self.next().await {
            LinkEvent::Event(e) if e.r#type() == ty => *e,
            other => panic!("expected a {ty:?} event, got {other:?}"),
        }
    }

    /// Skips events until one of type `ty` arrives (a real master interleaves heartbeats
    /// and offers).
    pub async fn event_skipping(&self, ty: event::Type) -> mesoswarm_proto::scheduler::Event {
        loop {
            match self.next().await {
                LinkEvent::Event(e) if e.r#type() == ty => return *e,
                LinkEvent::Event(_) => continue,
                other => panic!("expected a {ty:?} event, got {other:?}"),
            }
        }
    }

    /// Sends a call.
    pub async fn call(&self, call: Call) {
        self.commands
            .send(LinkCommand::Call(Box::new(call)))
            .await
            .expect("the link is gone");
    }

    /// Sends SUBSCRIBE and expects SUBSCRIBED, HEARTBEAT and OFFERS.
    pub async fn subscribe_and_expect_events(&self) {
        self.call(subscribe_call()).await;
        self.event(event::Type::Subscribed).await;
        self.event(event::Type::Heartbeat).await;
        self.event(event::Type::Offers).await;
    }
}

/// The first SUBSCRIBE of a framework.
pub fn subscribe_call() -> Call {
    Call {
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            framework_info: FrameworkInfo {
                user: "root".into(),
                name: "mesoswarm-test".into(),
                ..Default::default()
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A DECLINE of `offer` by the fake master's framework.
pub fn decline_call(offer: &str) -> Call {
    Call {
        framework_id: Some(FrameworkId {
            value: fake_master::FRAMEWORK_ID.into(),
        }),
        r#type: Some(call::Type::Decline as i32),
        decline: Some(call::Decline {
            offer_ids: vec![OfferId {
                value: offer.into(),
            }],
            filters: None,
        }),
        ..Default::default()
    }
}
