//! The durable store: what is written survives a reopen, removals delete, and a bad file is
//! a clear error rather than a crash.

use std::collections::BTreeMap;

use mesoswarm_core::container::{Container, DockerStatus, TaskRecord};
use mesoswarm_core::docker::request::DockerRequest;
use mesoswarm_core::docker::DockerResponse;
use mesoswarm_core::ids::ContainerId;
use mesoswarm_core::spec::{ContainerPort, ContainerSpec, PortBinding, PortProtocol};
use mesoswarm_core::task_state::TaskState;
use mesoswarm_core::time::Instant;
use mesoswarm_core::{Config, Input, Manager, Output, Record};
use mesoswarm_shell::store::{Store, StoreError};

fn container(byte: u8, name: &str) -> Container {
    let port = ContainerPort {
        port: 80,
        protocol: PortProtocol::Tcp,
    };
    Container {
        id: ContainerId([byte; 32]),
        name: name.to_string(),
        spec: ContainerSpec {
            image: "busybox:latest".into(),
            cmd: Some(vec!["sleep".into(), "60".into()]),
            env: vec!["A=1".into()],
            labels: BTreeMap::from([("com.example".to_string(), "x".to_string())]),
            exposed_ports: vec![port],
            port_bindings: vec![PortBinding {
                container: port,
                host_ip: String::new(),
                host_port: None,
            }],
            ..ContainerSpec::default()
        },
        created_at: Instant::from_unix_nanos(1_795_000_000_123_456_789),
        status: DockerStatus::Running,
        started_at: Some(Instant::from_unix_secs(1_795_000_001)),
        finished_at: None,
        exit_code: 0,
        error: String::new(),
        restart_count: 1,
        task: Some(TaskRecord {
            task_id: format!("{}.2", ContainerId([byte; 32]).to_hex()),
            generation: 2,
            agent_id: Some("agent-1".into()),
            agent_hostname: Some("agent-1.cluster.test".into()),
            agent_docker_port: Some(4243),
            state: Some(TaskState::Running),
            docker_id: Some("abc123".into()),
            host_ports: vec![(port, 31000)],
            cpus_milli: 100,
            mem_mib: 128,
            message: "running".into(),
        }),
    }
}

#[test]
fn records_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let a = container(0xaa, "web");
    let b = container(0xbb, "db");
    {
        let store = Store::open(&path).unwrap();
        assert!(store.load().unwrap().is_empty());
        store
            .write_batch(&[
                Record::FrameworkId(Some("fw-1".into())),
                Record::Container(Box::new(a.clone())),
            ])
            .unwrap();
        store
            .write_batch(&[Record::Container(Box::new(b.clone()))])
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.load().unwrap(),
        vec![
            Record::FrameworkId(Some("fw-1".into())),
            Record::Container(Box::new(a)),
            Record::Container(Box::new(b)),
        ]
    );
}

#[test]
fn the_last_record_per_key_wins_and_removals_delete() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let store = Store::open(&path).unwrap();
    let mut a = container(0x01, "web");
    let b = container(0x02, "db");
    store
        .write_batch(&[
            Record::FrameworkId(Some("fw-1".into())),
            Record::Container(Box::new(a.clone())),
            Record::Container(Box::new(b.clone())),
        ])
        .unwrap();
    a.status = DockerStatus::Exited;
    a.exit_code = 3;
    store
        .write_batch(&[
            Record::Container(Box::new(a.clone())),
            Record::ContainerRemoved(b.id),
            Record::FrameworkId(None),
        ])
        .unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.load().unwrap(), vec![Record::Container(Box::new(a))]);
    // Removing what is not there is fine.
    store
        .write_batch(&[Record::ContainerRemoved(ContainerId([9; 32]))])
        .unwrap();
}

#[test]
fn a_manager_restored_from_the_store_knows_its_containers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let store = Store::open(&path).unwrap();
    let now = Instant::from_unix_secs(1_795_000_000);
    let mut m = Manager::new(Config::default());
    for (i, name) in ["web", "db"].iter().enumerate() {
        m.handle(
            now,
            Input::Docker {
                id: i as u64 + 1,
                request: DockerRequest::ContainerCreate {
                    name: Some(name.to_string()),
                    spec: Box::new(ContainerSpec {
                        image: "busybox".into(),
                        ..ContainerSpec::default()
                    }),
                    warnings: vec![],
                },
            },
        );
        let mut batch = Vec::new();
        let mut up_to = 0;
        while let Some(out) = m.poll_output() {
            if let Output::Persist { seq, record } = out {
                batch.push(record);
                up_to = seq;
            }
        }
        store.write_batch(&batch).unwrap();
        m.handle(now, Input::Persisted { up_to });
        let created = std::iter::from_fn(|| m.poll_output()).any(|o| {
            matches!(
                o,
                Output::Docker {
                    response: DockerResponse::Created { .. },
                    ..
                }
            )
        });
        assert!(created, "create answers once its record is durable");
    }
    drop(store);
    let records = Store::open(&path).unwrap().load().unwrap();
    let restored = Manager::restore(Config::default(), records);
    let mut names: Vec<_> = restored.containers().map(|c| c.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["db", "web"]);
    let original: Vec<_> = m.containers().cloned().collect();
    let again: Vec<_> = restored.containers().cloned().collect();
    assert_eq!(original, again);
}

#[test]
fn a_file_that_is_not_a_store_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.redb");
    std::fs::write(&path, vec![0x5a; 64 * 1024]).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("cannot open the store"), "{text}");
    assert!(text.contains("garbage.redb"), "{text}");
}

#[test]
fn a_damaged_store_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    {
        let store = Store::open(&path).unwrap();
        for i in 0..50u8 {
            store
                .write_batch(&[Record::Container(Box::new(container(i, &format!("c{i}"))))])
                .unwrap();
        }
    }
    // Damage every page that holds a container's JSON.
    let mut bytes = std::fs::read(&path).unwrap();
    let needle = b"busybox:latest";
    let hits: Vec<usize> = bytes
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect();
    assert!(!hits.is_empty());
    for i in hits {
        bytes[i] ^= 0xff;
    }
    std::fs::write(&path, bytes).unwrap();
    let result = std::panic::catch_unwind(|| Store::open(&path).and_then(|s| s.load()));
    let result = result.expect("opening a damaged store must not panic");
    match result {
        Ok(records) => panic!("a damaged store loaded {} records", records.len()),
        Err(err) => assert!(err.to_string().contains("state.redb"), "{err}"),
    }
}

#[test]
fn a_path_that_cannot_be_created_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let path = file.join("state.redb");
    let err = Store::open(&path).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("plain-file/state.redb"), "{text}");
    assert!(text.contains("cannot open the store"), "{text}");
}

#[test]
fn a_store_in_use_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let _first = Store::open(&path).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::InUse { .. }), "{err:?}");
    assert!(err.to_string().contains("in use"), "{err}");
}

#[test]
fn the_in_memory_store_behaves_the_same() {
    let store = Store::in_memory().unwrap();
    assert_eq!(store.location(), "(in memory)");
    let a = container(0x33, "web");
    store
        .write_batch(&[
            Record::FrameworkId(Some("fw".into())),
            Record::Container(Box::new(a.clone())),
        ])
        .unwrap();
    assert_eq!(
        store.load().unwrap(),
        vec![
            Record::FrameworkId(Some("fw".into())),
            Record::Container(Box::new(a.clone())),
        ]
    );
    store
        .write_batch(&[Record::ContainerRemoved(a.id)])
        .unwrap();
    assert_eq!(
        store.load().unwrap(),
        vec![Record::FrameworkId(Some("fw".into()))]
    );
}
