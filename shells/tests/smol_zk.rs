//! zookeeper-client on smol: its session task goes to our runtime, not to smol's global
//! executor (which would start threads of its own, `smol-1` …) nor to a tokio runtime (there
//! is none here), and the session works.
//!
//! Needs ZooKeeper on 127.0.0.1, named by `MESOSWARM_TEST_ZK` (`./scripts/test.sh` starts
//! one and sets it; `mesos_zk.rs` says how to start one by hand).

mod smol_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mesoswarm_shell::mesos::zk::on_runtime;
use mesoswarm_shell::runtime::smol::{block_on, SmolRuntime};
use mesoswarm_shell::runtime::{timeout, Runtime};
use zookeeper_client::{Acls, Client, CreateMode};

fn zk_servers() -> String {
    std::env::var("MESOSWARM_TEST_ZK").unwrap_or_else(|_| {
        panic!(
            "MESOSWARM_TEST_ZK is not set: this test needs a real ZooKeeper on 127.0.0.1 \
             (./scripts/test.sh starts one; tests/mesos_zk.rs says how by hand)"
        )
    })
}

/// Names of this process's threads.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|n| n.trim().to_string())
        .collect()
}

#[test]
fn zookeeper_sessions_run_on_the_smol_runtime_that_uses_them() {
    let servers = zk_servers();
    block_on(|rt: SmolRuntime| async move {
        let spawned = Arc::new(AtomicUsize::new(0));
        let counting = SmolRuntime::with_spawner({
            let (rt, spawned) = (rt.clone(), spawned.clone());
            move |fut| {
                spawned.fetch_add(1, Ordering::SeqCst);
                rt.spawn(fut)
            }
        });
        let session = on_runtime(counting, async {
            let client = Client::connector()
                .with_session_timeout(Duration::from_secs(10))
                .connect(&servers)
                .await
                .unwrap_or_else(|e| panic!("cannot reach ZooKeeper at {servers}: {e}"));
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let path = format!("/mesoswarm-smol-{}-{nanos}", std::process::id());
            let mode = CreateMode::Ephemeral.with_acls(Acls::anyone_all());
            client.create(&path, b"on smol", &mode).await.unwrap();
            let (data, _) = client.get_data(&path).await.unwrap();
            client.delete(&path, None).await.unwrap();
            data
        });
        let data = timeout(&rt, smol_support::STEP, session)
            .await
            .expect("ZooKeeper answers in time");
        assert_eq!(data, b"on smol");
        assert!(
            spawned.load(Ordering::SeqCst) >= 1,
            "the session task was spawned on our runtime"
        );
        let names = thread_names();
        assert!(
            !names.iter().any(|n| n.starts_with("smol-")),
            "smol's global executor was started: {names:?}"
        );
    })
    .unwrap();
}
