//! `konter sim router` as a user runs it: the first line names the address and credentials.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use konter::routeros::{Client, ClientOptions, UserFilter, UserProps};

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(args: &[&str]) -> (Kill, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_konter"))
        .args(args)
        .env("KONTER_CONFIG", "")
        .env_remove("KONTER_LANG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("konter binary");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (Kill(child), line)
}

#[tokio::test]
async fn first_line_has_address_and_credentials() {
    let (_child, line) = start(&[
        "sim",
        "router",
        "--bind",
        "127.0.0.1:0",
        "--users",
        "1234",
        "--seed",
        "9",
        "--user",
        "kasir",
        "--password",
        "rahasia",
    ]);
    assert!(
        line.starts_with("konter sim router listening on 127.0.0.1:"),
        "{line}"
    );
    assert!(line.contains("user=kasir password=rahasia"), "{line}");
    let addr = line.split_whitespace().nth(5).unwrap();
    let c = Client::connect(&ClientOptions::new(addr, "kasir", "rahasia"))
        .await
        .unwrap();
    let n = c
        .each_hotspot_user(&UserFilter::All, UserProps::Sync, |_| {})
        .await
        .unwrap();
    assert_eq!(n, 1234);
}

#[tokio::test]
async fn json_first_line_and_default_login() {
    let (_child, line) = start(&[
        "--json",
        "sim",
        "router",
        "--bind",
        "127.0.0.1:0",
        "--users",
        "7",
    ]);
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["event"], "listening");
    assert_eq!(v["user"], "admin");
    assert_eq!(v["password"], "konter");
    let c = Client::connect(&ClientOptions::new(
        v["addr"].as_str().unwrap(),
        "admin",
        "konter",
    ))
    .await
    .unwrap();
    assert_eq!(
        c.hotspot_users(&UserFilter::All, UserProps::Sync)
            .await
            .unwrap()
            .len(),
        7
    );
}

#[test]
fn busy_port_is_a_clear_error() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_konter"))
        .args(["sim", "router", "--bind", &addr])
        .env("KONTER_CONFIG", "")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot listen on") && err.contains("--bind"),
        "{err}"
    );
}

/// `konter demo` is not async: it runs the simulator on its own thread.
#[test]
fn background_simulator_for_the_demo() {
    use konter::routeros::sim::{BackgroundSim, SimConfig};
    let sim = BackgroundSim::start("127.0.0.1:0", SimConfig::demo()).unwrap();
    let mut cfg = konter::config::RouterConfig::default();
    sim.configure(&mut cfg);
    assert_eq!(cfg.password, "konter");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let n = rt.block_on(async {
        let c = Client::connect(&ClientOptions::from_config(&cfg))
            .await
            .unwrap();
        c.hotspot_users(&UserFilter::All, UserProps::Sync)
            .await
            .unwrap()
            .len()
    });
    assert_eq!(n, 300);
    let addr = sim.addr();
    drop(sim);
    // Stopped: nothing listens there any more.
    assert!(std::net::TcpStream::connect(addr).is_err());
}
