//! The Mesos link and the core's calls against the REAL Mesos 1.11.0 master
//! (`../shared/real-mesos`): what the master answers to our KILL. (The test agents there
//! fail every task within milliseconds, so a KILL of a live task cannot be observed; the
//! end-to-end suite covers launches, failures, acknowledgements, declines and failover.)

mod mesos_support;

use std::path::PathBuf;
use std::process::Command;

use mesoswarm_core::config::FrameworkConfig;
use mesoswarm_core::manager::calls;
use mesoswarm_proto::scheduler::event;
use mesoswarm_proto::v1::{task_status, TaskState};
use mesoswarm_shell::mesos::MasterSource;

use mesos_support::{test_config, Link};

struct RealMaster {
    tools: PathBuf,
    dir: String,
    port: u16,
}

impl RealMaster {
    fn start() -> RealMaster {
        let shared = std::env::var("MESOSWARM_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
        let tools = shared.join("real-mesos");
        assert!(
            tools.join("start.sh").exists(),
            "the real Mesos tool is missing at {}: shared/ must sit beside the checkout, and \
             scripts/test.sh runs its setup.sh",
            tools.display()
        );
        let out = Command::new("bash")
            .arg(tools.join("start.sh"))
            .args(["--port", "0", "--agents", "1"])
            .output()
            .expect("run start.sh");
        assert!(
            out.status.success(),
            "real Mesos master did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let env = String::from_utf8_lossy(&out.stdout).to_string();
        let get = |k: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .unwrap_or_else(|| panic!("{k} missing in start.sh output: {env}"))
                .to_string()
        };
        RealMaster {
            tools,
            dir: get("REAL_MESOS_INSTANCE_DIR"),
            port: get("REAL_MESOS_MASTER_PORT").parse().unwrap(),
        }
    }
}

impl Drop for RealMaster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(self.tools.join("stop.sh"))
            .arg(&self.dir)
            .output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_master_answers_our_kill_of_an_unknown_task_with_task_unknown() {
    let master = RealMaster::start();
    let link = Link::start(test_config(MasterSource::Static(vec![(
        "127.0.0.1".into(),
        master.port,
    )])));
    link.connected().await;
    let fw = FrameworkConfig::default();
    link.call(calls::subscribe(&fw, None, false)).await;
    let subscribed = link.event_skipping(event::Type::Subscribed).await;
    let id = subscribed.subscribed.unwrap().framework_id.value;

    link.call(calls::kill(&id, "no-such-task.1", None, 3)).await;
    loop {
        let e = link.event_skipping(event::Type::Update).await;
        let status = e.update.unwrap().status;
        if status.task_id.value != "no-such-task.1" {
            continue;
        }
        assert_eq!(
            status.state(),
            TaskState::TaskUnknown,
            "partition-aware frameworks get TASK_UNKNOWN"
        );
        assert_eq!(status.reason(), task_status::Reason::Reconciliation);
        assert_eq!(status.source(), task_status::Source::Master);
        assert_eq!(
            status.uuid, None,
            "master-made updates carry no uuid, so none is acknowledged"
        );
        break;
    }
}
