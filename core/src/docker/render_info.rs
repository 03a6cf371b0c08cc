//! `docker info` for a Mesos cluster: the manager's counters and the offers it holds.
//!
//! The cluster is described in rows the docker CLI prints verbatim, in the style classic
//! Swarm used. Classic Swarm put them in `SystemStatus`, which the API 1.53 model of
//! bollard-stubs no longer has, so they go in `DriverStatus` (driver `mesos`), which the CLI
//! prints the same way, indented under `Storage Driver`:
//!
//! ```text
//!  Storage Driver: mesos
//!   Role: primary
//!   Strategy: mesos
//!   Status: connected
//!   Mesos master: master1:5050
//!   Framework ID: 0f3c…-0001
//!   Pending: 0
//!   Offers: 1
//!     Offer: 0f3c…-O12
//!      └ Agent: agent1
//!      └ cpus: 1.5
//!      └ mem: 2 GiB
//!      └ disk: 10 GiB
//!      └ ports: 31000-32000
//! ```
//!
//! `NCPU` and `MemTotal` add up the offers held right now, so they show what can be placed
//! at this moment rather than the cluster's size. `NCPU` is rounded down (1.5 offered cpus
//! show as 1: a container asking for 2 cpus would not fit), `MemTotal` is the offered MiB in
//! bytes.

use std::collections::HashMap;

use bollard_stubs::models::{
    LocalNodeState, PluginsInfo, RegistryServiceConfig, SwarmInfo, SystemInfo,
    SystemInfoCgroupDriverEnum,
};
use bytes::Bytes;

use crate::docker::humanize::{cpus_text, mib_text, ranges_text};
use crate::docker::render::json_value_body;
use crate::docker::response::InfoView;
use crate::docker::version::{ARCH, ENGINE_VERSION, OS_TYPE};

/// `docker info`'s body for the manager (see the module docs for the choices).
pub fn system_info(v: &InfoView) -> SystemInfo {
    let to_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let cpus_milli: u64 = v
        .offers
        .iter()
        .map(|o| o.cpus_milli)
        .fold(0, u64::saturating_add);
    let mem_mib: u64 = v
        .offers
        .iter()
        .map(|o| o.mem_mib)
        .fold(0, u64::saturating_add);
    let containers = v
        .containers_running
        .saturating_add(v.containers_stopped)
        .saturating_add(v.containers_paused);
    let warnings = if v.connected {
        Vec::new()
    } else {
        vec![
            "WARNING: mesoswarm is not connected to a Mesos master; containers cannot be started"
                .to_string(),
        ]
    };
    SystemInfo {
        id: Some(v.framework_id.clone().unwrap_or_default()),
        containers: Some(to_i64(containers)),
        containers_running: Some(to_i64(v.containers_running)),
        containers_paused: Some(to_i64(v.containers_paused)),
        containers_stopped: Some(to_i64(v.containers_stopped)),
        images: Some(0),
        driver: Some("mesos".to_string()),
        driver_status: Some(cluster_status(v)),
        docker_root_dir: Some(String::new()),
        plugins: Some(PluginsInfo {
            volume: Some(Vec::new()),
            network: Some(Vec::new()),
            authorization: None,
            log: Some(Vec::new()),
        }),
        // Mesos enforces cpu and memory limits on the agents; claiming support keeps the docker
        // CLI from printing its legacy "No memory limit support" warnings.
        memory_limit: Some(true),
        swap_limit: Some(true),
        cpu_cfs_period: Some(true),
        cpu_cfs_quota: Some(true),
        cpu_shares: Some(true),
        cpu_set: Some(true),
        pids_limit: Some(true),
        oom_kill_disable: Some(true),
        ipv4_forwarding: Some(true),
        debug: Some(false),
        nfd: Some(0),
        n_goroutines: Some(0),
        logging_driver: Some("json-file".to_string()),
        cgroup_driver: Some(SystemInfoCgroupDriverEnum::NONE),
        n_events_listener: Some(0),
        kernel_version: Some(String::new()),
        operating_system: Some("mesoswarm (Apache Mesos)".to_string()),
        os_version: Some(String::new()),
        os_type: Some(OS_TYPE.to_string()),
        architecture: Some(ARCH.to_string()),
        ncpu: Some(to_i64(cpus_milli / 1000)),
        mem_total: Some(to_i64(mem_mib.saturating_mul(1 << 20))),
        index_server_address: Some("https://index.docker.io/v1/".to_string()),
        registry_config: Some(RegistryServiceConfig {
            insecure_registry_cidrs: Some(Vec::new()),
            index_configs: Some(HashMap::new()),
            mirrors: Some(Vec::new()),
        }),
        name: Some(v.name.clone()),
        labels: Some(Vec::new()),
        experimental_build: Some(false),
        server_version: Some(ENGINE_VERSION.to_string()),
        swarm: Some(SwarmInfo {
            node_id: Some(String::new()),
            node_addr: Some(String::new()),
            local_node_state: Some(LocalNodeState::INACTIVE),
            control_available: Some(false),
            error: Some(String::new()),
            remote_managers: None,
            ..SwarmInfo::default()
        }),
        live_restore_enabled: Some(false),
        security_options: Some(Vec::new()),
        warnings: Some(warnings),
        ..SystemInfo::default()
    }
}

/// The cluster rows of `DriverStatus` (see the module docs).
fn cluster_status(v: &InfoView) -> Vec<Vec<String>> {
    let row = |k: &str, v: String| vec![k.to_string(), v];
    let mut rows = vec![
        row("Role", "primary".to_string()),
        row("Strategy", "mesos".to_string()),
        row(
            "Status",
            if v.connected {
                "connected"
            } else {
                "not connected"
            }
            .to_string(),
        ),
        row(
            "Mesos master",
            v.master
                .clone()
                .unwrap_or_else(|| "not connected".to_string()),
        ),
        row(
            "Framework ID",
            v.framework_id.clone().unwrap_or_else(|| "none".to_string()),
        ),
        row("Pending", v.pending.to_string()),
        row("Offers", v.offers.len().to_string()),
    ];
    for o in &v.offers {
        rows.push(row("  Offer", o.id.clone()));
        rows.push(row("   └ Agent", o.hostname.clone()));
        rows.push(row("   └ cpus", cpus_text(o.cpus_milli)));
        rows.push(row("   └ mem", mib_text(o.mem_mib)));
        rows.push(row("   └ disk", mib_text(o.disk_mib)));
        rows.push(row("   └ ports", ranges_text(&o.ports)));
    }
    rows
}

/// The JSON body of `GET /info`. Besides [`SystemInfo`] it sets `BridgeNfIptables` and
/// `BridgeNfIp6tables` (fields the API 1.53 model dropped but docker CLI 28 still reads) so
/// the CLI does not print legacy warnings about the manager's own kernel settings.
pub fn info_body(info: &SystemInfo) -> Bytes {
    let mut value = serde_json::to_value(info).unwrap_or(serde_json::Value::Null);
    if let Some(obj) = value.as_object_mut() {
        obj.insert("BridgeNfIptables".to_string(), true.into());
        obj.insert("BridgeNfIp6tables".to_string(), true.into());
    }
    json_value_body(value)
}
