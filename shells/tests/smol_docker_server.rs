//! The Docker API server and the driver on smol, over TCP and a unix socket, with a manager
//! that has no Mesos master (the Mesos client's ends of the link are held by the test): the
//! same answers as on tokio (`docker_server_api.rs`), and a clean stop. Also the smol
//! runtime's own promises: a write-side shutdown leaves the read side open, and a task that
//! panics does not take the executor down.

mod smol_support;

use std::future::poll_fn;
use std::pin::Pin;

use http::{Method, StatusCode};
use mesoswarm_core::{Config, Manager};
use mesoswarm_shell::docker_server::{serve_docker_api, ServerLimits};
use mesoswarm_shell::driver::{spawn_driver, DriverLimits};
use mesoswarm_shell::runtime::smol::{block_on, SmolRuntime};
use mesoswarm_shell::runtime::{timeout, BoxIo, Runtime};
use mesoswarm_shell::store::Store;
use smol_support::{Client, STEP};

#[test]
fn the_docker_api_answers_on_smol_over_tcp_and_unix_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("mesoswarm.sock");
    block_on(|rt: SmolRuntime| async move {
        let (commands_tx, _commands_rx) = async_channel::bounded(256);
        let (_events_tx, events_rx) = async_channel::bounded(256);
        let driver = spawn_driver(
            &rt,
            Manager::new(Config::default()),
            Store::in_memory().unwrap(),
            commands_tx,
            events_rx,
            DriverLimits::default(),
        )
        .unwrap();
        let tcp = rt.bind_tcp("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = tcp.local_addr().parse().unwrap();
        let unix = rt.bind_unix(&sock).await.unwrap();
        let (served_tx, served_rx) = async_channel::bounded::<()>(1);
        rt.spawn(Box::pin({
            let (rt, driver) = (rt.clone(), driver.clone());
            async move {
                serve_docker_api(rt, vec![tcp, unix], driver, ServerLimits::default()).await;
                let _ = served_tx.send(()).await;
            }
        }));

        let mut c = Client::tcp(&rt, addr).await.unwrap();
        let ping = c.call(Method::GET, "/_ping", None).await;
        assert_eq!(ping.status, StatusCode::OK);
        assert_eq!(ping.text(), "OK");
        assert_eq!(ping.headers["api-version"], "1.44");
        // The same connection again (keep-alive).
        let head = c.call(Method::HEAD, "/v1.41/_ping", None).await;
        assert_eq!(head.status, StatusCode::OK);
        assert!(head.body.is_empty());

        let version = c.call(Method::GET, "/v1.44/version", None).await;
        assert_eq!(version.json()["ApiVersion"], "1.44");
        let info = c.call(Method::GET, "/v1.44/info", None).await.json();
        assert_eq!(info["Driver"], "mesos");
        assert_eq!(
            smol_support::driver_status(&info, "Status").as_deref(),
            Some("not connected")
        );

        let created = c
            .call(
                Method::POST,
                "/v1.44/containers/create?name=web",
                Some(r#"{"Image":"busybox","Cmd":["true"]}"#),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        let id = created.json()["Id"].as_str().unwrap().to_string();

        // The unix socket reaches the same daemon.
        let mut u = Client::unix(&rt, &sock).await.unwrap();
        let inspect = u
            .call(
                Method::GET,
                &format!("/containers/{}/json", &id[..12]),
                None,
            )
            .await;
        assert_eq!(inspect.status, StatusCode::OK);
        assert_eq!(inspect.json()["Name"], "/web");
        assert_eq!(inspect.json()["State"]["Status"], "created");

        let unknown = u.call(Method::GET, "/v1.44/images/json", None).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert_eq!(unknown.headers["content-type"], "application/json");
        assert!(unknown.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("page not found"));

        let rm = c.call(Method::DELETE, "/v1.44/containers/web", None).await;
        assert_eq!(rm.status, StatusCode::NO_CONTENT);

        driver.shutdown();
        timeout(&rt, STEP, served_rx.recv())
            .await
            .expect("the server stops once the driver has")
            .unwrap();
    })
    .unwrap();
}

async fn write_all(io: &mut BoxIo, mut data: &[u8]) {
    while !data.is_empty() {
        let n = poll_fn(|cx| hyper::rt::Write::poll_write(Pin::new(&mut *io), cx, data))
            .await
            .unwrap();
        data = &data[n..];
    }
}

async fn read_to_end(io: &mut BoxIo) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut chunk = [0u8; 1024];
        let mut buf = hyper::rt::ReadBuf::new(&mut chunk);
        poll_fn(|cx| hyper::rt::Read::poll_read(Pin::new(&mut *io), cx, buf.unfilled()))
            .await
            .unwrap();
        if buf.filled().is_empty() {
            return out;
        }
        out.extend_from_slice(buf.filled());
    }
}

#[test]
fn shutting_down_a_connection_closes_only_its_write_half() {
    // attach and exec pass a client's half-close on to the engine and keep reading its
    // answer: `poll_shutdown` must not close the read side.
    block_on(|rt: SmolRuntime| async move {
        let mut listener = rt.bind_tcp("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr: std::net::SocketAddr = listener.local_addr().parse().unwrap();
        let (client, server) =
            futures_util::future::join(rt.connect_tcp("127.0.0.1", addr.port()), listener.accept())
                .await;
        let (mut client, mut server) = (client.unwrap(), server.unwrap());
        let exchange = async {
            write_all(&mut client, b"stdin, then EOF").await;
            poll_fn(|cx| hyper::rt::Write::poll_shutdown(Pin::new(&mut client), cx))
                .await
                .unwrap();
            assert_eq!(read_to_end(&mut server).await, b"stdin, then EOF");
            write_all(&mut server, b"the answer").await;
            poll_fn(|cx| hyper::rt::Write::poll_shutdown(Pin::new(&mut server), cx))
                .await
                .unwrap();
            assert_eq!(read_to_end(&mut client).await, b"the answer");
        };
        timeout(&rt, STEP, exchange).await.expect("no hang");
    })
    .unwrap();
}

#[test]
fn a_panicking_task_leaves_the_executor_running() {
    // The panic's message is printed: this test expects it.
    let after = block_on(|rt: SmolRuntime| async move {
        rt.spawn(Box::pin(async { panic!("a bug in one task") }));
        rt.sleep(std::time::Duration::from_millis(50)).await;
        let (tx, rx) = async_channel::bounded(1);
        for _ in 0..4 {
            let tx = tx.clone();
            rt.spawn(Box::pin(async move {
                let _ = tx.send(()).await;
            }));
        }
        timeout(&rt, STEP, async {
            for _ in 0..4 {
                rx.recv().await.unwrap();
            }
        })
        .await
    })
    .unwrap();
    assert!(after.is_some(), "tasks spawned after the panic ran");
}
