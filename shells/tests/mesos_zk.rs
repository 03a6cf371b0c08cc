//! Leader detection through a real ZooKeeper: masters registered as `json.info_<seq>`
//! znodes the way Mesos masters register, each pointing at a fake master.
//!
//! Needs ZooKeeper on 127.0.0.1, named by `MESOSWARM_TEST_ZK` (`./scripts/test.sh` starts
//! one and sets it).

mod mesos_support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mesoswarm_shell::mesos::MasterSource;
use zookeeper_client::{Acls, Client, CreateMode};

use mesos_support::fake_master::FakeMaster;
use mesos_support::{test_config, Link};

/// A leader change must be noticed and acted on within this.
const LEADER_CHANGE_LIMIT: Duration = Duration::from_secs(5);

fn zk_servers() -> String {
    std::env::var("MESOSWARM_TEST_ZK").unwrap_or_else(|_| {
        panic!(
            "MESOSWARM_TEST_ZK is not set: this test needs a real ZooKeeper on 127.0.0.1.\n\
             ./scripts/test.sh starts one and sets it. By hand (Debian's `zookeeper` package):\n\
             \x20 apt-get install -y zookeeper\n\
             \x20 write zoo.cfg: tickTime=2000, dataDir=<tmp dir>, clientPort=<free port>,\n\
             \x20   clientPortAddress=127.0.0.1, admin.enableServer=false,\n\
             \x20   4lw.commands.whitelist=ruok,srvr,stat,mntr\n\
             \x20 java -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \\\n\
             \x20   org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg &\n\
             \x20 MESOSWARM_TEST_ZK=127.0.0.1:<port> cargo test -p mesoswarm --test mesos_zk\n\
             (kill the java process by its pid afterwards)"
        )
    })
}

/// A `MasterInfo` as a Mesos 1.11 master writes it into its znode (keys sorted).
fn master_info(port: u16) -> String {
    format!(
        r#"{{"address":{{"hostname":"127.0.0.1","ip":"127.0.0.1","port":{port}}},"hostname":"127.0.0.1","id":"fake-{port}","ip":16777343,"pid":"master@127.0.0.1:{port}","port":{port},"version":"1.11.0"}}"#
    )
}

/// A fresh group path for one test, e.g. `/mesoswarm-test-123-456/mesos`.
fn unique_path(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("/mesoswarm-test-{}-{nanos}-{tag}/mesos", std::process::id())
}

async fn zk_client(servers: &str) -> Client {
    Client::connector()
        .with_session_timeout(Duration::from_secs(10))
        .connect(servers)
        .await
        .unwrap_or_else(|e| panic!("cannot reach ZooKeeper at {servers}: {e}"))
}

/// Registers `master` under `path` as a candidate; returns the znode's full path.
async fn register(zk: &Client, path: &str, master: &FakeMaster) -> String {
    let options = CreateMode::EphemeralSequential.with_acls(Acls::anyone_all());
    let prefix = format!("{path}/json.info_");
    let (_, seq) = zk
        .create(&prefix, master_info(master.port).as_bytes(), &options)
        .await
        .expect("create the candidate znode");
    format!("{prefix}{seq}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_the_leader_registered_in_zookeeper() {
    let servers = zk_servers();
    let zk = zk_client(&servers).await;
    let path = unique_path("failover");
    let dir = CreateMode::Persistent.with_acls(Acls::anyone_all());
    zk.mkdir(&path, &dir).await.expect("create the group path");
    // Not a candidate: skipped, as Mesos' detector skips it.
    zk.create(&format!("{path}/log_replicas"), b"", &dir)
        .await
        .unwrap();

    let first = FakeMaster::start().await;
    let second = FakeMaster::start().await;
    let first_node = register(&zk, &path, &first).await;
    let _second_node = register(&zk, &path, &second).await;

    let link = Link::start(test_config(MasterSource::Zk {
        servers: servers.clone(),
        path: path.clone(),
    }));
    assert_eq!(
        link.connected().await,
        first.addr,
        "the lowest sequence leads"
    );
    link.subscribe_and_expect_events().await;
    let first_stream = first.current_stream().unwrap();

    // The leader's session ends: its znode goes away.
    let t0 = Instant::now();
    zk.delete(&first_node, None)
        .await
        .expect("delete the leader's znode");
    let reason = link.disconnected().await;
    assert!(reason.contains(&second.addr), "{reason}");
    first.stream_closed_by_client(&first_stream).await;
    assert_eq!(link.connected().await, second.addr);
    let took = t0.elapsed();
    assert!(
        took < LEADER_CHANGE_LIMIT,
        "moving to the new leader took {took:?}"
    );
    link.subscribe_and_expect_events().await;
    assert!(second.current_stream().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waits_for_a_master_to_register() {
    let servers = zk_servers();
    let zk = zk_client(&servers).await;
    let path = unique_path("late");
    let link = Link::start(test_config(MasterSource::Zk {
        servers: servers.clone(),
        path: path.clone(),
    }));
    // Nothing registered yet (not even the group path): the link waits.
    let master = FakeMaster::start().await;
    zk.mkdir(&path, &CreateMode::Persistent.with_acls(Acls::anyone_all()))
        .await
        .expect("create the group path");
    register(&zk, &path, &master).await;
    assert_eq!(link.connected().await, master.addr);
    link.subscribe_and_expect_events().await;
}
