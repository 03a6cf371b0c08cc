//! Leader detection through ZooKeeper (`zk://h1:2181,h2:2181/mesos`), as Mesos' own
//! detector does it (`reference/mesos-v1-api.md` §3): list the children of the group path
//! with a watch, take the lowest `json.info_<seq>`, read its `MasterInfo` JSON with a watch,
//! and look again whenever either watch fires.
//!
//! zookeeper-client does its I/O and timers on async-io, whose reactor needs no executor (it
//! runs its own thread when nobody else drives it), so it works under tokio and smol alike.
//! It spawns one task per session (and a few for retried deletes) through `spawns`, which
//! asks, at each spawn: a spawner entered on this thread, else the current tokio runtime
//! (the crate's `tokio` feature), else smol's global executor (`smol`). Left to that, under
//! `--runtime smol` the session would run on smol's global executor and its threads, beside
//! ours. So the watcher is polled inside a scope that hands those spawns to our [`Runtime`]
//! ([`on_runtime`]): the session task runs where everything else does, on either runtime.
//! The two features stay on as the fallback for code that does not enter such a scope.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::future::{select, Either};
use mesoswarm_proto::zk::{leader_child, parse_master_info_json};
use zookeeper_client::{Client, Error, EventType, WatchedEvent};

use super::backoff::Backoff;
use super::http::AbortSignal;
use super::masters::MasterAddr;
use super::session::Internal;
use super::MesosClientConfig;
use crate::runtime::Runtime;

/// How many times in a row the leader may vanish between listing and reading it before the
/// watcher waits for the next change instead of looking again at once.
const MAX_IMMEDIATE_RELISTS: usize = 8;

/// The leading master as ZooKeeper names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZkLeader {
    /// The candidate znode's name (`json.info_0000000007`).
    pub znode: String,
    /// Where the master listens.
    pub addr: MasterAddr,
}

/// The full path of `child` under the group `path`.
pub fn child_path(path: &str, child: &str) -> String {
    format!("{}/{child}", path.trim_end_matches('/'))
}

/// The leader among `children` of the group node (the lowest `json.info_<seq>`), if any.
pub fn leader_znode(children: &[String]) -> Option<&str> {
    leader_child(children)
}

/// Turns the leader's znode name and its `MasterInfo` JSON into a [`ZkLeader`].
pub fn leader_from_znode(znode: &str, data: &[u8]) -> Result<ZkLeader, String> {
    let location = parse_master_info_json(data)
        .map_err(|e| format!("znode {znode} holds no usable MasterInfo: {e}"))?;
    Ok(ZkLeader {
        znode: znode.to_string(),
        addr: MasterAddr::new(location.host, location.port),
    })
}

type Wake = Pin<Box<dyn Future<Output = WatchedEvent> + Send>>;

/// Reports the leader under `path` on `servers` to the link (`Internal::Leader`) every time
/// it changes, until `abort` fires or the link is gone.
pub(crate) async fn watch_leader<R: Runtime>(
    rt: R,
    servers: String,
    path: String,
    config: MesosClientConfig,
    internal: async_channel::Sender<Internal>,
    abort: AbortSignal,
) {
    let work = async {
        let mut backoff = Backoff::new(config.backoff.clone());
        let mut reported: Option<Option<ZkLeader>> = None;
        loop {
            let connector = Client::connector().with_session_timeout(config.zk_session_timeout);
            let client = match connector.connect(&servers).await {
                Ok(client) => client,
                Err(e) => {
                    tracing::warn!(servers = %servers, "cannot reach ZooKeeper at {servers}: {e}");
                    rt.sleep(backoff.next_delay()).await;
                    continue;
                }
            };
            tracing::info!(servers = %servers, path = %path, "watching ZooKeeper {servers} for the leading Mesos master under {path}");
            loop {
                let (leader, wake) = match observe(&client, &path).await {
                    Ok(found) => found,
                    Err(e) if ends_session(&e) => {
                        tracing::warn!("ZooKeeper session lost: {e}; starting a new one");
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(path = %path, "cannot read {path} in ZooKeeper: {e}");
                        rt.sleep(backoff.next_delay()).await;
                        continue;
                    }
                };
                backoff.reset();
                if reported.as_ref() != Some(&leader) {
                    if internal
                        .send(Internal::Leader(leader.clone()))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    reported = Some(leader);
                }
                let event = wake.await;
                if event.event_type == EventType::Session && event.session_state.is_terminated() {
                    tracing::warn!(
                        "ZooKeeper session ended ({:?}); starting a new one",
                        event.session_state
                    );
                    break;
                }
            }
        }
    };
    let work = on_runtime(rt.clone(), work);
    let aborted = std::pin::pin!(abort.aborted());
    select(work, aborted).await;
}

/// Runs `fut` so that whatever zookeeper-client spawns while it is polled (a session's task,
/// background deletes) is spawned on `rt`, whichever runtime that is.
pub fn on_runtime<R: Runtime, F: Future>(rt: R, fut: F) -> impl Future<Output = F::Output> {
    OnRuntime {
        spawner: RuntimeSpawner(rt),
        fut: Box::pin(fut),
    }
}

/// Hands `spawns` tasks to a [`Runtime`].
struct RuntimeSpawner<R>(R);

impl<R: Runtime> spawns_core::Spawn for RuntimeSpawner<R> {
    fn spawn(&self, task: spawns_core::Task) {
        self.0.spawn(Box::into_pin(task.future));
    }
}

/// A future polled with its spawner entered. The scope is per poll because `spawns` keeps
/// it in a thread-local and a multi-threaded executor may poll on any thread.
struct OnRuntime<R, F: Future> {
    spawner: RuntimeSpawner<R>,
    fut: Pin<Box<F>>,
}

// Nothing is pinned in place: the future is boxed, the spawner only borrowed per poll.
impl<R, F: Future> Unpin for OnRuntime<R, F> {}

impl<R: Runtime, F: Future> Future for OnRuntime<R, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let _scope = spawns_core::enter(&this.spawner);
        this.fut.as_mut().poll(cx)
    }
}

/// True for errors after which this client is useless.
fn ends_session(e: &Error) -> bool {
    matches!(
        e,
        Error::SessionExpired | Error::ClientClosed | Error::AuthFailed | Error::NoHosts
    )
}

/// Reads the current leader and returns it with a future that completes when it may have
/// changed.
async fn observe(client: &Client, path: &str) -> Result<(Option<ZkLeader>, Wake), Error> {
    for _ in 0..MAX_IMMEDIATE_RELISTS {
        let (children, children_watch) = match client.list_and_watch_children(path).await {
            Ok(found) => found,
            Err(Error::NoNode) => {
                // No group node yet (no master ever ran): wait for it to appear.
                let (stat, watch) = client.check_and_watch_stat(path).await?;
                if stat.is_some() {
                    continue;
                }
                return Ok((None, Box::pin(watch.changed())));
            }
            Err(e) => return Err(e),
        };
        let Some(child) = leader_znode(&children) else {
            return Ok((None, Box::pin(children_watch.changed())));
        };
        let (data, _, data_watch) = match client.get_and_watch_data(&child_path(path, child)).await
        {
            Ok(found) => found,
            Err(Error::NoNode) => continue,
            Err(e) => return Err(e),
        };
        let leader = match leader_from_znode(child, &data) {
            Ok(leader) => Some(leader),
            Err(e) => {
                tracing::warn!("{e}");
                None
            }
        };
        let wake = async move {
            let children = std::pin::pin!(children_watch.changed());
            let data = std::pin::pin!(data_watch.changed());
            match select(children, data).await {
                Either::Left((event, _)) | Either::Right((event, _)) => event,
            }
        };
        return Ok((leader, Box::pin(wake)));
    }
    let (_, watch) = client.list_and_watch_children(path).await?;
    Ok((None, Box::pin(watch.changed())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master_info(port: u16) -> String {
        format!(
            r#"{{"address":{{"hostname":"127.0.0.1","ip":"127.0.0.1","port":{port}}},"hostname":"127.0.0.1","id":"m-{port}","ip":16777343,"pid":"master@127.0.0.1:{port}","port":{port},"version":"1.11.0"}}"#
        )
    }

    #[test]
    fn znodes_to_leader() {
        let children: Vec<String> = [
            "log_replicas",
            "json.info_0000000012",
            "info_0000000001",
            "json.info_0000000010",
            "json.info_x",
        ]
        .map(String::from)
        .to_vec();
        let child = leader_znode(&children).unwrap();
        assert_eq!(child, "json.info_0000000010");
        assert_eq!(child_path("/mesos", child), "/mesos/json.info_0000000010");
        assert_eq!(child_path("/mesos/", child), "/mesos/json.info_0000000010");
        let leader = leader_from_znode(child, master_info(15050).as_bytes()).unwrap();
        assert_eq!(leader.znode, "json.info_0000000010");
        assert_eq!(leader.addr, MasterAddr::new("127.0.0.1", 15050));
        assert_eq!(leader.addr.to_string(), "127.0.0.1:15050");

        // Old masters: no `address`, the packed ip and the top-level port.
        let old = br#"{"id":"x","ip":16777343,"port":5051,"pid":"master@127.0.0.1:5051"}"#;
        assert_eq!(
            leader_from_znode("json.info_1", old).unwrap().addr,
            MasterAddr::new("127.0.0.1", 5051)
        );

        assert!(leader_from_znode("json.info_1", b"\x08\x01binary").is_err());
        assert_eq!(leader_znode(&["log_replicas".to_string()]), None);
    }
}
