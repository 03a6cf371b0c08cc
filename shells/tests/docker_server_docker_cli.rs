//! The real docker CLI against the server (no Mesos master): create, ps, inspect, wait,
//! events and rm, as a user types them. Fails, saying how to get it, where no `docker` is on the PATH.

mod docker_server_support;

use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use docker_server_support::start;
use mesoswarm_core::Config;
use mesoswarm_shell::docker_server::ServerLimits;

fn docker_available() -> bool {
    Command::new("docker")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `docker -H tcp://addr args…` off the async threads.
async fn docker(host: &str, args: &[&str]) -> Output {
    let host = host.to_string();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let run = tokio::task::spawn_blocking(move || {
        Command::new("docker")
            .arg("-H")
            .arg(&host)
            .args(&args)
            .env(
                "DOCKER_CONFIG",
                std::env::temp_dir().join("mesoswarm-test-docker-config"),
            )
            .output()
            .expect("docker runs")
    });
    tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("docker finishes in time")
        .unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "docker failed: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docker_cli_creates_lists_inspects_waits_watches_and_removes() {
    assert!(
        docker_available(),
        "this test drives the real docker CLI, which is not on the PATH: install the docker client \
         (these machines come with docker 28; Debian's docker.io package has one too)"
    );
    let s = start(Config::default(), ServerLimits::default()).await;
    let host = format!("tcp://{}", s.addr);

    let until = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3;
    let events_host = host.clone();
    let events = tokio::spawn(async move {
        docker(
            &events_host,
            &[
                "events",
                "--filter",
                "event=create",
                "--until",
                &until.to_string(),
            ],
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;

    let id = stdout(
        &docker(
            &host,
            &[
                "create",
                "--name",
                "web",
                "-l",
                "tier=front",
                "busybox",
                "sleep",
                "60",
            ],
        )
        .await,
    );
    assert_eq!(id.len(), 64, "{id}");

    let ps = stdout(
        &docker(
            &host,
            &["ps", "-a", "--format", "{{.Names}} {{.Status}} {{.Image}}"],
        )
        .await,
    );
    assert_eq!(ps, "web Created busybox");
    let name = stdout(
        &docker(
            &host,
            &[
                "inspect",
                "--format",
                "{{.Name}} {{.Config.Labels.tier}}",
                "web",
            ],
        )
        .await,
    );
    assert_eq!(name, "/web front");
    let code = stdout(&docker(&host, &["wait", "web"]).await);
    assert_eq!(code, "0");

    let conflict = docker(&host, &["create", "--name", "web", "busybox"]).await;
    assert!(!conflict.status.success());
    assert!(
        String::from_utf8_lossy(&conflict.stderr).contains("is already in use"),
        "{}",
        String::from_utf8_lossy(&conflict.stderr)
    );

    let watched = stdout(&events.await.unwrap());
    assert!(
        watched.contains(&format!("container create {id}")),
        "{watched}"
    );
    assert!(watched.contains("name=web"), "{watched}");

    assert_eq!(stdout(&docker(&host, &["rm", "web"]).await), "web");
    assert_eq!(stdout(&docker(&host, &["ps", "-aq"]).await), "");
}
