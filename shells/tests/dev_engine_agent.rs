//! `mesoswarm dev --engine`: the simulated agents run their tasks as real containers on a
//! real Docker engine, and what a Docker user sees through mesoswarm matches what happened
//! there.
//!
//! These tests need a real dockerd with a `busybox:latest` image: its address comes from
//! `MESOSWARM_TEST_DOCKER` (`unix:///tmp/msw-dockerd/docker.sock` or `tcp://127.0.0.1:23999`).

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use http::{Method, StatusCode};
use mesoswarm_proto::v1::{
    container_info, container_info::docker_info, AgentId, CommandInfo, ContainerInfo, TaskId,
    TaskInfo, TaskState,
};
use mesoswarm_shell::cli::{Cli, Command};
use mesoswarm_shell::dev::engine_agent::{EngineAgent, EngineAgentConfig, TaskReport};
use mesoswarm_shell::engine::{EngineAddr, EngineClient, EngineLimits};
use mesoswarm_shell::runtime::tokio::TokioRuntime;
use mesoswarm_sim::ClusterOutput;
use serde_json::{json, Value};

/// The longest one step may take (a launch goes through offers, a stop through its grace).
const STEP: Duration = Duration::from_secs(60);
/// The label mesoswarm puts on the engine-side container: the mesoswarm container id.
const LABEL_CONTAINER_ID: &str = "com.mesoswarm.container.id";

/// The engine under test, from `MESOSWARM_TEST_DOCKER`; fails (never skips) without it.
fn engine() -> EngineAddr {
    let text = std::env::var("MESOSWARM_TEST_DOCKER").unwrap_or_else(|_| {
        panic!(
            "these tests need a real Docker engine with a busybox:latest image: set \
             MESOSWARM_TEST_DOCKER=unix:///PATH/docker.sock (or tcp://HOST:PORT). \
             ./scripts/test.sh starts one for the test run; by hand (as root, Debian docker.io \
             and busybox-static): D=/tmp/msw-dockerd; mkdir -p $D/data $D/execroot; dockerd \
             --data-root $D/data --exec-root $D/execroot -H unix://$D/docker.sock --pidfile \
             $D/dockerd.pid >$D/dockerd.log 2>&1 & then build busybox:latest with `docker \
             import` as ../shared/reference/docker-api.md section 8.1 shows, and run \
             MESOSWARM_TEST_DOCKER=unix://$D/docker.sock cargo test -p mesoswarm --test \
             dev_engine_agent"
        )
    });
    EngineAddr::parse(&text).unwrap_or_else(|e| panic!("MESOSWARM_TEST_DOCKER: {e}"))
}

fn client() -> EngineClient<TokioRuntime> {
    EngineClient::new(TokioRuntime, EngineLimits::default())
}

/// One HTTP call (to mesoswarm or to the engine); the answer as JSON, or as a JSON string
/// when it is not JSON.
async fn call(
    client: &EngineClient<TokioRuntime>,
    addr: &EngineAddr,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let answer = tokio::time::timeout(
        STEP,
        client.call(addr, method.clone(), path, body.as_ref(), Some(STEP)),
    )
    .await
    .unwrap_or_else(|_| panic!("{method} {path} did not answer within {STEP:?}"))
    .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let (status, bytes) = answer;
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

/// Waits until `check` holds, polling; fails after `limit`.
async fn eventually<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "{what}: not so after {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A name no other test run uses.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The engine's containers (running or not) with this label.
async fn engine_containers(engine: &EngineAddr, label: &str) -> Vec<Value> {
    let filters = query_escape(&json!({ "label": [label] }).to_string());
    let (status, list) = call(
        &client(),
        engine,
        Method::GET,
        &format!("/v1.41/containers/json?all=1&filters={filters}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().cloned().unwrap_or_default()
}

/// Removes what a test left on the engine.
async fn clean_up(engine: &EngineAddr, label: &str) {
    for c in engine_containers(engine, label).await {
        if let Some(id) = c["Id"].as_str() {
            let path = format!("/v1.41/containers/{id}?v=1&force=1");
            let _ = client()
                .call(engine, Method::DELETE, &path, None, Some(STEP))
                .await;
        }
    }
}

/// `mesoswarm dev --engine …` running in this process, serving the Docker API on a unix
/// socket of its own.
struct Dev {
    api: EngineAddr,
    engine: EngineAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<Result<(), String>>,
    _dir: tempfile::TempDir,
}

impl Dev {
    async fn start(extra: &[&str]) -> Dev {
        let engine = engine();
        let dir = tempfile::tempdir().unwrap();
        let socket: PathBuf = dir.path().join("mesoswarm.sock");
        let host = format!("unix://{}", socket.display());
        let engine_text = engine.to_string();
        let mut argv = vec!["mesoswarm", "dev", "--engine", &engine_text, "-H", &host];
        argv.extend_from_slice(extra);
        let Command::Dev(args) = Cli::try_parse_from(argv).unwrap().command else {
            panic!("not the dev command")
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(mesoswarm_shell::dev::run(
            TokioRuntime,
            args,
            false,
            None,
            async move {
                let _ = stopped.await;
            },
        ));
        let api = EngineAddr::Unix(socket);
        let c = client();
        eventually("mesoswarm answers /_ping", STEP, || {
            let (c, api) = (c.clone(), api.clone());
            async move {
                matches!(
                    c.call(&api, Method::GET, "/_ping", None, Some(STEP)).await,
                    Ok((StatusCode::OK, _))
                )
            }
        })
        .await;
        Dev {
            api,
            engine,
            stop: Some(stop),
            done,
            _dir: dir,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        call(&client(), &self.api, method, path, body).await
    }

    /// Creates a container on mesoswarm; returns its id.
    async fn create(&self, name: &str, body: Value) -> String {
        let (status, answer) = self
            .call(
                Method::POST,
                &format!("/v1.41/containers/create?name={name}"),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        answer["Id"].as_str().unwrap().to_string()
    }

    async fn inspect(&self, id: &str) -> Value {
        let (status, answer) = self
            .call(Method::GET, &format!("/v1.41/containers/{id}/json"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer
    }

    async fn shut_down(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let ended = tokio::time::timeout(STEP, &mut self.done)
            .await
            .expect("the daemon stops in time");
        ended.unwrap().expect("the daemon ends cleanly");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_task_runs_as_a_mesos_container_and_its_exit_code_comes_back() {
    let dev = Dev::start(&[]).await;
    let id = dev
        .create(
            &unique("exit3"),
            json!({"Image": "busybox", "Cmd": ["sh", "-c", "exit 3"]}),
        )
        .await;
    let label = format!("{LABEL_CONTAINER_ID}={id}");
    let (status, answer) = dev
        .call(Method::POST, &format!("/v1.41/containers/{id}/start"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    let (status, answer) = dev
        .call(Method::POST, &format!("/v1.41/containers/{id}/wait"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["StatusCode"], 3, "{answer}");

    let on_engine = engine_containers(&dev.engine, &label).await;
    assert_eq!(
        on_engine.len(),
        1,
        "one engine container per task: {on_engine:?}"
    );
    let c = &on_engine[0];
    let name = c["Names"][0].as_str().unwrap_or_default();
    assert!(
        name.starts_with("/mesos-"),
        "named as Mesos names it: {name}"
    );
    assert_eq!(c["State"], "exited", "{c}");
    let task_id = c["Labels"]["MESOS_TASK_ID"].as_str().unwrap_or_default();
    assert!(task_id.starts_with(&id), "tied to its task: {task_id}");
    let inspect = dev.inspect(&id).await;
    assert_eq!(inspect["State"]["ExitCode"], 3, "{inspect}");

    clean_up(&dev.engine, &label).await;
    dev.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stop_stops_the_engine_container_and_inspect_shows_it_exited() {
    let dev = Dev::start(&[]).await;
    let id = dev
        .create(
            &unique("sleeper"),
            json!({"Image": "busybox", "Cmd": ["sleep", "1000"]}),
        )
        .await;
    let label = format!("{LABEL_CONTAINER_ID}={id}");
    let (status, answer) = dev
        .call(Method::POST, &format!("/v1.41/containers/{id}/start"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    let running = engine_containers(&dev.engine, &label).await;
    assert_eq!(running.len(), 1, "{running:?}");
    assert_eq!(running[0]["State"], "running", "{}", running[0]);
    assert_eq!(dev.inspect(&id).await["State"]["Status"], "running");

    let (status, answer) = dev
        .call(
            Method::POST,
            &format!("/v1.41/containers/{id}/stop?t=1"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    let engine = dev.engine.clone();
    eventually("the engine container has stopped", STEP, || {
        let (engine, label) = (engine.clone(), label.clone());
        async move {
            let list = engine_containers(&engine, &label).await;
            list.len() == 1 && list[0]["State"] == "exited"
        }
    })
    .await;
    let inspect = dev.inspect(&id).await;
    assert_eq!(inspect["State"]["Status"], "exited", "{inspect}");
    assert_eq!(inspect["State"]["Running"], false, "{inspect}");
    // `sleep` as PID 1 ignores SIGTERM: the stop ends with SIGKILL once its second is up.
    assert_eq!(inspect["State"]["ExitCode"], 137, "{inspect}");

    clean_up(&dev.engine, &label).await;
    dev.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_missing_image_fails_the_start_with_the_engines_word_for_it() {
    let dev = Dev::start(&[]).await;
    let image = unique("msw-no-such-image");
    let id = dev
        .create(&unique("noimage"), json!({"Image": image, "Cmd": ["true"]}))
        .await;
    let (status, answer) = dev
        .call(Method::POST, &format!("/v1.41/containers/{id}/start"), None)
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{answer}");
    let message = answer["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&image) && message.contains("No such image"),
        "the message names the missing image: {message}"
    );
    let inspect = dev.inspect(&id).await;
    assert_ne!(inspect["State"]["Status"], "running", "{inspect}");
    let label = format!("{LABEL_CONTAINER_ID}={id}");
    assert!(
        engine_containers(&dev.engine, &label).await.is_empty(),
        "nothing was created on the engine"
    );
    dev.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exited_containers_leave_the_engine_after_the_remove_delay() {
    let dev = Dev::start(&["--engine-remove-delay", "500ms"]).await;
    let id = dev
        .create(
            &unique("short"),
            json!({"Image": "busybox", "Cmd": ["sleep", "2"]}),
        )
        .await;
    let label = format!("{LABEL_CONTAINER_ID}={id}");
    let (status, answer) = dev
        .call(Method::POST, &format!("/v1.41/containers/{id}/start"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    assert_eq!(
        engine_containers(&dev.engine, &label).await.len(),
        1,
        "it runs on the engine"
    );
    let (status, answer) = dev
        .call(Method::POST, &format!("/v1.41/containers/{id}/wait"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["StatusCode"], 0, "{answer}");
    let engine = dev.engine.clone();
    eventually(
        "the exited container is removed from the engine",
        STEP,
        || {
            let (engine, label) = (engine.clone(), label.clone());
            async move { engine_containers(&engine, &label).await.is_empty() }
        },
    )
    .await;
    // mesoswarm still has the container: only the agent's copy went.
    assert_eq!(dev.inspect(&id).await["State"]["Status"], "exited");
    dev.shut_down().await;
}

/// A Mesos task as the core builds it: busybox with a command, on the bridge network.
fn task(task_id: &str, args: &[&str]) -> TaskInfo {
    TaskInfo {
        name: "t".into(),
        task_id: TaskId {
            value: task_id.into(),
        },
        agent_id: AgentId {
            value: "agent-0".into(),
        },
        command: Some(CommandInfo {
            shell: Some(false),
            value: Some(args[0].into()),
            arguments: args[1..].iter().map(|a| a.to_string()).collect(),
            ..Default::default()
        }),
        container: Some(ContainerInfo {
            r#type: container_info::Type::Docker as i32,
            docker: Some(container_info::DockerInfo {
                image: "busybox".into(),
                network: Some(docker_info::Network::Bridge as i32),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The agent on `engine`, fed directly; its reports come out of the returned channel.
fn agent(
    engine: EngineAddr,
) -> (
    EngineAgent<TokioRuntime>,
    async_channel::Sender<ClusterOutput>,
    async_channel::Receiver<TaskReport>,
) {
    let (requests_tx, requests_rx) = async_channel::bounded(16);
    let (reports_tx, reports_rx) = async_channel::bounded(64);
    let agent = EngineAgent::spawn(
        TokioRuntime,
        EngineAgentConfig::new(engine),
        requests_rx,
        Arc::new(move |r| {
            let _ = reports_tx.try_send(r);
        }),
    );
    (agent, requests_tx, reports_rx)
}

/// Reports until the task's terminal one.
async fn until_terminal(reports: &async_channel::Receiver<TaskReport>) -> Vec<TaskReport> {
    let mut seen = Vec::new();
    loop {
        let r = tokio::time::timeout(STEP, reports.recv())
            .await
            .unwrap_or_else(|_| panic!("no terminal report within {STEP:?}: {seen:?}"))
            .unwrap();
        let terminal = !matches!(
            r.state,
            TaskState::TaskStarting | TaskState::TaskRunning | TaskState::TaskStaging
        );
        seen.push(r);
        if terminal {
            return seen;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_that_overtakes_the_launch_still_ends_the_task() {
    let engine = engine();
    let (agent, requests, reports) = agent(engine.clone());
    let task_id = unique("killed-early");
    requests
        .send(ClusterOutput::Launch {
            agent_id: "agent-0".into(),
            task: Box::new(task(&task_id, &["sleep", "1000"])),
        })
        .await
        .unwrap();
    requests
        .send(ClusterOutput::Kill {
            agent_id: "agent-0".into(),
            task_id: task_id.clone(),
            grace: Duration::from_secs(1),
        })
        .await
        .unwrap();
    let seen = until_terminal(&reports).await;
    let last = seen.last().unwrap();
    assert_eq!(last.state, TaskState::TaskKilled, "{seen:?}");
    assert_eq!(last.task_id, task_id);
    let label = format!("MESOS_TASK_ID={task_id}");
    let left = engine_containers(&engine, &label).await;
    assert!(
        left.iter().all(|c| c["State"] != "running"),
        "nothing keeps running: {left:?}"
    );
    clean_up(&engine, &label).await;
    agent.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_running_task_killed_ends_killed_with_its_exit_status() {
    let engine = engine();
    let (agent, requests, reports) = agent(engine.clone());
    let task_id = unique("killed-running");
    requests
        .send(ClusterOutput::Launch {
            agent_id: "agent-0".into(),
            task: Box::new(task(&task_id, &["sleep", "1000"])),
        })
        .await
        .unwrap();
    // TASK_RUNNING carries the engine's inspect array, with the container's id.
    let running = loop {
        let r = tokio::time::timeout(STEP, reports.recv())
            .await
            .expect("TASK_RUNNING in time")
            .unwrap();
        assert!(
            matches!(r.state, TaskState::TaskStarting | TaskState::TaskRunning),
            "{r:?}"
        );
        if r.state == TaskState::TaskRunning {
            break r;
        }
    };
    let data: Value = serde_json::from_slice(running.data.as_deref().unwrap()).unwrap();
    let docker_id = data[0]["Id"].as_str().unwrap().to_string();
    assert_eq!(data[0]["State"]["Running"], true, "{data}");
    requests
        .send(ClusterOutput::Kill {
            agent_id: "agent-0".into(),
            task_id: task_id.clone(),
            grace: Duration::from_millis(200),
        })
        .await
        .unwrap();
    let seen = until_terminal(&reports).await;
    let last = seen.last().unwrap();
    assert_eq!(last.state, TaskState::TaskKilled, "{seen:?}");
    assert_eq!(
        last.message.as_deref(),
        Some("Container exited with status 137"),
        "{seen:?}"
    );
    let (status, inspect) = call(
        &client(),
        &engine,
        Method::GET,
        &format!("/v1.41/containers/{docker_id}/json"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(inspect["State"]["Status"], "exited", "{inspect}");
    clean_up(&engine, &format!("MESOS_TASK_ID={task_id}")).await;
    agent.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_engine_fails_the_launch_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = EngineAddr::Unix(dir.path().join("no-docker.sock"));
    let (agent, requests, reports) = agent(nowhere);
    requests
        .send(ClusterOutput::Launch {
            agent_id: "agent-0".into(),
            task: Box::new(task("t.1", &["true"])),
        })
        .await
        .unwrap();
    let seen = until_terminal(&reports).await;
    let last = seen.last().unwrap();
    assert_eq!(last.state, TaskState::TaskFailed, "{seen:?}");
    let message = last.message.as_deref().unwrap_or_default();
    assert!(
        message.starts_with("Failed to launch container: cannot reach the Docker engine"),
        "{message}"
    );
    agent.shutdown();
}
