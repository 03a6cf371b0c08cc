//! `mesoswarm dev` whole on smol: the simulated master's HTTP server, the Mesos client that
//! subscribes to it, the driver and the Docker API server, with no tokio runtime anywhere. A
//! container is created, started (a task the simulated agents run), inspected, stopped and
//! removed; then the daemon shuts down cleanly.
//!
//! The same daemon also runs under async-std's executor: async-std's reactor is async-io,
//! smol's own, so the smol shell needs nothing but a spawn function for it.

mod smol_support;

use std::time::Duration;

use clap::Parser;
use futures_util::future::join;
use http::{Method, StatusCode};
use mesoswarm_shell::cli::{Cli, Command};
use mesoswarm_shell::runtime::smol::SmolRuntime;
use mesoswarm_shell::runtime::Runtime;
use smol_support::{call, driver_status, free_port, wait_for, Client};

/// Start-up of the whole dev stack (bind, subscribe, first offers) must fit in this.
const START: Duration = Duration::from_secs(30);

/// Runs `mesoswarm dev` on `rt`, drives a container through its life with the Docker API,
/// stops the daemon and returns what `dev::run` returned.
async fn dev_lifecycle<R: Runtime>(rt: R) -> Result<(), String> {
    let port = free_port();
    let host = format!("tcp://127.0.0.1:{port}");
    let cli = Cli::try_parse_from([
        "mesoswarm",
        "dev",
        "--host",
        host.as_str(),
        "--agents",
        "2",
        "--cluster-opt",
        "mesos.offerrefusetimeout=1s",
    ])
    .unwrap();
    let Command::Dev(args) = cli.command else {
        unreachable!("parsed dev")
    };
    let (stop_tx, stop_rx) = async_channel::bounded::<()>(1);
    let daemon = mesoswarm_shell::dev::run(rt.clone(), args, false, None, async move {
        let _ = stop_rx.recv().await;
    });
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let client = async {
        wait_for(&rt, "the Docker API to answer", START, || async {
            let mut c = Client::tcp(&rt, addr).await.ok()?;
            (c.call(Method::GET, "/_ping", None).await.status == StatusCode::OK).then_some(())
        })
        .await;
        wait_for(&rt, "the manager to subscribe", START, || async {
            let info = call(&rt, addr, Method::GET, "/info", None).await.json();
            (driver_status(&info, "Status").as_deref() == Some("connected")).then_some(())
        })
        .await;

        let mut c = Client::tcp(&rt, addr).await.unwrap();
        let version = c.call(Method::GET, "/version", None).await;
        assert_eq!(version.status, StatusCode::OK);
        assert_eq!(version.json()["ApiVersion"], "1.44");

        let created = c
            .call(
                Method::POST,
                "/v1.44/containers/create?name=web",
                Some(r#"{"Image":"busybox","Cmd":["sleep","1000"],"HostConfig":{"Memory":268435456}}"#),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        let id = created.json()["Id"].as_str().unwrap().to_string();
        assert_eq!(id.len(), 64);

        // Start answers once the simulated agent runs the task.
        let started = c
            .call(Method::POST, "/v1.44/containers/web/start", None)
            .await;
        assert_eq!(started.status, StatusCode::NO_CONTENT, "{}", started.text());
        let inspect = c
            .call(Method::GET, "/v1.44/containers/web/json", None)
            .await
            .json();
        assert_eq!(inspect["Id"], id.as_str());
        assert_eq!(inspect["State"]["Status"], "running");
        assert_eq!(inspect["State"]["Running"], true);
        let listed = c
            .call(Method::GET, "/v1.44/containers/json", None)
            .await
            .json();
        assert_eq!(listed[0]["Names"][0], "/web");

        let stopped = c
            .call(Method::POST, "/v1.44/containers/web/stop?t=1", None)
            .await;
        assert_eq!(stopped.status, StatusCode::NO_CONTENT, "{}", stopped.text());
        let inspect = c
            .call(Method::GET, "/v1.44/containers/web/json", None)
            .await
            .json();
        assert_eq!(inspect["State"]["Running"], false);
        let removed = c.call(Method::DELETE, "/v1.44/containers/web", None).await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text());
        let gone = c
            .call(Method::GET, "/v1.44/containers/web/json", None)
            .await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);

        stop_tx.send(()).await.unwrap();
    };
    let (result, ()) = join(daemon, client).await;
    result
}

#[test]
fn dev_runs_a_container_through_its_life_on_smol() {
    let result = mesoswarm_shell::runtime::smol::block_on(dev_lifecycle).unwrap();
    assert_eq!(result, Ok(()));
}

#[test]
fn the_smol_shell_runs_under_async_std_too() {
    // async-std's tasks run on its own executor; sockets and timers are async-io's either way.
    let rt = SmolRuntime::with_spawner(|fut| {
        async_std::task::spawn(fut);
    });
    let result = async_std::task::block_on(dev_lifecycle(rt));
    assert_eq!(result, Ok(()));
}
