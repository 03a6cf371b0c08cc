//! `mesoswarm dev --engine`: the simulated agents run their tasks as real containers on one
//! Docker engine, as a Mesos agent's Docker containerizer and executor would.
//!
//! The simulated cluster (in `ExecutorMode::External`) asks for launches and kills; this
//! agent answers each with engine calls and reports the task's states back:
//! create (pulling a missing image once) → start → inspect → TASK_RUNNING with the inspect
//! array as the status data → wait → TASK_FINISHED / TASK_FAILED / TASK_KILLED with
//! `Container exited with status N`. Exited containers are removed after a delay (Mesos'
//! `--docker_remove_delay`). The engine calls are in `engine_calls` (each with a time limit,
//! except the body of the wait, which only ends when the container does), the translation of
//! a `TaskInfo` into a create body in [`engine_task`].

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::future::{select, Either};
use mesoswarm_core::rng::Rng;
use mesoswarm_proto::v1::{TaskInfo, TaskState};
use mesoswarm_sim::ClusterOutput;

use crate::dev::engine_calls::{Engine, WaitAnswer};
use crate::dev::engine_task;
use crate::engine::EngineAddr;
use crate::runtime::Runtime;

/// Tasks run (or being started) at once, unless the command line says otherwise: each
/// running one holds a connection to the engine for its wait.
pub const DEFAULT_MAX_TASKS: usize = 256;
/// How long an exited container stays on the engine (Mesos' `--docker_remove_delay`).
pub const DEFAULT_REMOVE_DELAY: Duration = Duration::from_secs(6 * 3600);
/// Exited containers waiting for their removal; beyond it a container is left on the engine
/// (with a warning) rather than removed early.
pub const MAX_PENDING_REMOVALS: usize = 4096;
/// Waits asked of the engine for one container before the agent gives up following it
/// (the engine restarted, the connection broke).
pub const WAIT_ATTEMPTS: u32 = 5;
/// Pause between two waits for the same container.
const WAIT_RETRY_DELAY: Duration = Duration::from_secs(1);

/// How the agent runs tasks.
#[derive(Clone, Debug)]
pub struct EngineAgentConfig {
    /// The engine every simulated agent uses.
    pub engine: EngineAddr,
    /// Most tasks in flight (being created, started or running) at once.
    pub max_tasks: usize,
    /// How long an exited container stays on the engine before it is removed.
    pub remove_delay: Duration,
    /// TLS toward a `tcp://` engine that requires it.
    pub tls: Option<crate::engine::tls::EngineTls>,
}

impl EngineAgentConfig {
    /// The defaults, on `engine`.
    pub fn new(engine: EngineAddr) -> Self {
        EngineAgentConfig {
            engine,
            max_tasks: DEFAULT_MAX_TASKS,
            remove_delay: DEFAULT_REMOVE_DELAY,
            tls: None,
        }
    }
}

/// A task's new state, for `SimCluster::report_task_status`.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskReport {
    /// `AgentID.value`.
    pub agent_id: String,
    /// `TaskID.value`.
    pub task_id: String,
    /// The state.
    pub state: TaskState,
    /// `TaskStatus.message`.
    pub message: Option<String>,
    /// `TaskStatus.data`: the `docker inspect` array with TASK_RUNNING.
    pub data: Option<Vec<u8>>,
}

/// Where reports go (the simulated master).
pub type Reporter = Arc<dyn Fn(TaskReport) + Send + Sync>;

type TaskKey = (String, String);

/// A running agent. Dropping it does not stop it; [`EngineAgent::shutdown`] does.
pub struct EngineAgent<R: Runtime> {
    shared: Arc<Shared<R>>,
}

struct Shared<R: Runtime> {
    rt: R,
    engine: Engine<R>,
    config: EngineAgentConfig,
    report: Reporter,
    /// Tasks in flight, each with the channel that tells it to stop (and the grace period).
    tasks: Mutex<HashMap<TaskKey, async_channel::Sender<Duration>>>,
    /// Exited containers and when to remove them.
    removals: async_channel::Sender<(Instant, String)>,
    /// Closed at shutdown.
    stop: async_channel::Sender<()>,
    stopped: async_channel::Receiver<()>,
    /// Mesos ContainerIDs are UUIDs; they only need to be unique.
    rng: Mutex<Rng>,
}

/// How a task ended.
struct Ending {
    state: TaskState,
    message: String,
}

impl<R: Runtime> EngineAgent<R> {
    /// Starts taking launches and kills from `requests` (the simulated master's external
    /// channel) and sends every task state to `report`.
    pub fn spawn(
        rt: R,
        config: EngineAgentConfig,
        requests: async_channel::Receiver<ClusterOutput>,
        report: Reporter,
    ) -> EngineAgent<R> {
        let (stop, stopped) = async_channel::bounded(1);
        let (removals, removals_rx) = async_channel::bounded(MAX_PENDING_REMOVALS);
        let shared = Arc::new(Shared {
            rt: rt.clone(),
            engine: Engine::new(rt.clone(), config.engine.clone(), config.tls.clone()),
            config,
            report,
            tasks: Mutex::new(HashMap::new()),
            removals,
            stop,
            stopped,
            rng: Mutex::new(Rng::new(crate::daemon::fresh_seed())),
        });
        rt.spawn(Box::pin(shared.clone().greet()));
        rt.spawn(Box::pin(shared.clone().dispatch(requests)));
        rt.spawn(Box::pin(shared.clone().remove_exited(removals_rx)));
        EngineAgent { shared }
    }

    /// Stops taking requests and following containers. Containers stay on the engine as
    /// they are, running or exited (a Mesos agent leaves them too when it stops).
    pub fn shutdown(&self) {
        let left = lock(&self.shared.tasks).len();
        if left > 0 {
            tracing::info!(
                "leaving {left} task container(s) on the Docker engine at {}",
                self.shared.config.engine
            );
        }
        self.shared.stop.close();
    }
}

impl<R: Runtime> Shared<R> {
    /// Says which engine the tasks run on, or that it cannot be reached yet.
    async fn greet(self: Arc<Self>) {
        let engine = self.engine.addr();
        match self.engine.version().await {
            Ok((major, minor)) => tracing::info!(
                "the simulated agents run their tasks as containers on the Docker engine at \
                 {engine} (API {major}.{minor})"
            ),
            Err(e) => tracing::warn!("{e}: tasks fail to launch until it answers"),
        }
    }

    async fn dispatch(self: Arc<Self>, requests: async_channel::Receiver<ClusterOutput>) {
        while let Some(Ok(out)) = self.until_stopped(requests.recv()).await {
            match out {
                ClusterOutput::Launch { agent_id, task } => self.launch(agent_id, *task),
                ClusterOutput::Kill {
                    agent_id,
                    task_id,
                    grace,
                } => self.kill(&agent_id, &task_id, grace),
                other => tracing::debug!("engine agent: ignored {other:?}"),
            }
        }
    }

    /// Never waits: a launch over the limit fails at once, so kills keep flowing.
    fn launch(self: &Arc<Self>, agent_id: String, task: TaskInfo) {
        let task_id = task.task_id.value.clone();
        let key = (agent_id.clone(), task_id.clone());
        let (kill_tx, kill_rx) = async_channel::bounded(1);
        {
            let mut tasks = lock(&self.tasks);
            if tasks.contains_key(&key) {
                // A master never launches a task id twice; the first one is the real one.
                tracing::warn!("task {task_id} is already running on agent {agent_id}: ignored a second launch");
                return;
            }
            if tasks.len() >= self.config.max_tasks {
                drop(tasks);
                let message = format!(
                    "Failed to launch container: the dev agents already run {} tasks on the \
                     engine, their limit (--engine-max-tasks)",
                    self.config.max_tasks
                );
                tracing::warn!("task {task_id}: {message}");
                self.report(
                    &agent_id,
                    &task_id,
                    TaskState::TaskFailed,
                    Some(message),
                    None,
                );
                return;
            }
            tasks.insert(key, kill_tx);
        }
        let me = self.clone();
        self.rt.spawn(Box::pin(async move {
            me.run_task(agent_id, task, kill_rx).await;
        }));
    }

    fn kill(&self, agent_id: &str, task_id: &str, grace: Duration) {
        let key = (agent_id.to_string(), task_id.to_string());
        let sender = lock(&self.tasks).get(&key).cloned();
        match sender {
            // A full channel: a kill is already on its way.
            Some(tx) => {
                let _ = tx.try_send(grace);
            }
            None => {
                // Its launch never reached the agent: nothing runs, the task is over.
                tracing::info!("kill of task {task_id}, which this agent does not run");
                self.report(
                    agent_id,
                    task_id,
                    TaskState::TaskKilled,
                    Some("Killed before the task reached its agent".into()),
                    None,
                );
            }
        }
    }

    async fn run_task(
        self: Arc<Self>,
        agent_id: String,
        task: TaskInfo,
        kill: async_channel::Receiver<Duration>,
    ) {
        let task_id = task.task_id.value.clone();
        // Forgotten only after the last report, so that a late kill never overtakes it.
        let _registered = Registered {
            tasks: &self.tasks,
            key: (agent_id.clone(), task_id.clone()),
        };
        let Some(end) = self.run_container(&agent_id, &task, &kill).await else {
            return; // shut down while it ran
        };
        match end.state {
            TaskState::TaskFailed => tracing::warn!("task {task_id}: {}", end.message),
            _ => tracing::info!("task {task_id}: {}", end.message),
        }
        self.report(&agent_id, &task_id, end.state, Some(end.message), None);
    }

    /// Runs the task's container to its end. `None`: the agent shut down first.
    async fn run_container(
        self: &Arc<Self>,
        agent_id: &str,
        task: &TaskInfo,
        kill: &async_channel::Receiver<Duration>,
    ) -> Option<Ending> {
        let task_id = task.task_id.value.as_str();
        let launch_failed = |why: String| {
            // The user asked for the stop before the launch failed: the kill is what they see.
            let state = if kill.try_recv().is_ok() {
                TaskState::TaskKilled
            } else {
                TaskState::TaskFailed
            };
            Some(Ending {
                state,
                message: format!("Failed to launch container: {why}"),
            })
        };
        let container_id = self.uuid();
        let req = match engine_task::create_request(task, &container_id) {
            Ok(r) => r,
            Err(e) => return launch_failed(e),
        };
        for w in &req.warnings {
            tracing::warn!("task {task_id}: {w}");
        }
        let prefix = match self.engine.prefix().await {
            Ok(p) => p,
            Err(e) => return launch_failed(e),
        };
        self.report(agent_id, task_id, TaskState::TaskStarting, None, None);
        let id = match self.engine.create(&prefix, &req).await {
            Ok(id) => id,
            Err(e) => return launch_failed(e),
        };
        if kill.try_recv().is_ok() {
            // Killed while it was being created: it never ran, there is nothing to keep.
            self.engine.remove(&prefix, &id, true).await;
            return Some(Ending {
                state: TaskState::TaskKilled,
                message: "Container was killed before it started".into(),
            });
        }
        if let Err(e) = self.engine.start(&prefix, &id).await {
            self.schedule_removal(&id);
            return launch_failed(e);
        }
        let data = self.engine.inspect(&prefix, &id).await;
        self.report(agent_id, task_id, TaskState::TaskRunning, None, Some(data));
        let mut killed = false;
        if let Ok(grace) = kill.try_recv() {
            // The kill came while it started: stop it now.
            killed = true;
            self.spawn_stop(&prefix, &id, grace);
        }
        let exit = self.wait_exit(&prefix, &id, kill, &mut killed).await?;
        self.schedule_removal(&id);
        Some(match exit {
            Ok(code) => Ending {
                // As Mesos' Docker executor: a killed task is KILLED whatever its exit code.
                state: if killed {
                    TaskState::TaskKilled
                } else if code == 0 {
                    TaskState::TaskFinished
                } else {
                    TaskState::TaskFailed
                },
                message: format!("Container exited with status {code}"),
            },
            Err(why) => Ending {
                state: if killed {
                    TaskState::TaskKilled
                } else {
                    TaskState::TaskFailed
                },
                message: why,
            },
        })
    }

    /// Waits for the container's exit code. `Err`: it could not be followed to its end;
    /// `None`: the agent shut down. Kills that arrive meanwhile stop the container.
    async fn wait_exit(
        self: &Arc<Self>,
        prefix: &str,
        id: &str,
        kill: &async_channel::Receiver<Duration>,
        killed: &mut bool,
    ) -> Option<Result<i64, String>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut wait = std::pin::pin!(self.engine.wait(prefix, id));
            let answer = loop {
                let next_kill = std::pin::pin!(async {
                    match kill.recv().await {
                        Ok(grace) => grace,
                        // Cannot close while the task is registered; never fire if it does.
                        Err(_) => std::future::pending().await,
                    }
                });
                let stop = std::pin::pin!(self.stopped.recv());
                match select(wait.as_mut(), select(next_kill, stop)).await {
                    Either::Left((answer, _)) => break answer,
                    Either::Right((Either::Left((grace, _)), _)) => {
                        *killed = true;
                        self.spawn_stop(prefix, id, grace);
                    }
                    Either::Right((Either::Right(_), _)) => return None,
                }
            };
            let why = match answer {
                WaitAnswer::Exited(code) => return Some(Ok(code)),
                WaitAnswer::Gone(why) => {
                    return Some(Err(format!(
                        "Container {id} is gone from the engine: {why}"
                    )))
                }
                WaitAnswer::Failed(why) => why,
            };
            if attempt >= WAIT_ATTEMPTS {
                return Some(Err(format!(
                    "Lost track of container {id}: waiting for it failed {attempt} times; last: {why}"
                )));
            }
            tracing::warn!("waiting for container {id} failed ({why}): asking again");
            self.until_stopped(self.rt.sleep(WAIT_RETRY_DELAY)).await?;
        }
    }

    /// Stops the container in the background; the task's wait sees the exit.
    fn spawn_stop(self: &Arc<Self>, prefix: &str, id: &str, grace: Duration) {
        let me = self.clone();
        let (prefix, id) = (prefix.to_string(), id.to_string());
        self.rt.spawn(Box::pin(async move {
            me.engine.stop(&prefix, &id, grace).await;
        }));
    }

    fn schedule_removal(&self, id: &str) {
        let at = Instant::now() + self.config.remove_delay;
        if let Err(async_channel::TrySendError::Full(_)) =
            self.removals.try_send((at, id.to_string()))
        {
            tracing::warn!(
                "{MAX_PENDING_REMOVALS} exited containers already wait for their removal: \
                 container {id} stays on the engine"
            );
        }
    }

    /// Removes exited containers once their delay is over. The delay is the same for all,
    /// so the queue is in deadline order.
    async fn remove_exited(self: Arc<Self>, queue: async_channel::Receiver<(Instant, String)>) {
        while let Some(Ok((at, id))) = self.until_stopped(queue.recv()).await {
            let left = at.saturating_duration_since(Instant::now());
            if self.until_stopped(self.rt.sleep(left)).await.is_none() {
                return;
            }
            match self.engine.prefix().await {
                Ok(prefix) => self.engine.remove(&prefix, &id, false).await,
                Err(e) => tracing::warn!("cannot remove exited container {id}: {e}"),
            }
        }
    }

    async fn until_stopped<T>(&self, fut: impl Future<Output = T>) -> Option<T> {
        let fut = std::pin::pin!(fut);
        let stop = std::pin::pin!(self.stopped.recv());
        match select(fut, stop).await {
            Either::Left((v, _)) => Some(v),
            Either::Right(_) => None,
        }
    }

    fn uuid(&self) -> String {
        let bytes = lock(&self.rng).uuid_v4();
        mesoswarm_sim::ids::format_uuid(&bytes)
    }

    fn report(
        &self,
        agent_id: &str,
        task_id: &str,
        state: TaskState,
        message: Option<String>,
        data: Option<Vec<u8>>,
    ) {
        (self.report)(TaskReport {
            agent_id: agent_id.to_string(),
            task_id: task_id.to_string(),
            state,
            message,
            data,
        });
    }
}

/// Forgets a task when its run ends, however it ends.
struct Registered<'a> {
    tasks: &'a Mutex<HashMap<TaskKey, async_channel::Sender<Duration>>>,
    key: TaskKey,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        lock(self.tasks).remove(&self.key);
    }
}

/// A poisoned lock only means another task panicked mid-update of a plain map: go on.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
