//! Cross-check: the Python client librouteros (independent of our code) against the simulator.
//! It must be installed (`make pydeps`; CI installs it). Missing is a failure, not a skip.

use std::path::Path;
use std::time::Duration;

use konter::routeros::sim::{SimConfig, SimServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librouteros_agrees_with_the_simulator() {
    let sim = SimServer::start(
        "127.0.0.1:0",
        SimConfig {
            users: 400,
            seed: 5,
            ..SimConfig::default()
        },
    )
    .await
    .unwrap();
    let addr = sim.addr();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/routeros_librouteros.py");
    let child = tokio::process::Command::new("python3")
        .arg(&script)
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string())
        .arg(sim.user())
        .arg(sim.password())
        .kill_on_drop(true)
        .output();
    let out = match tokio::time::timeout(Duration::from_secs(60), child).await {
        Err(_) => panic!("the librouteros check did not finish within 60 s"),
        Ok(Err(e)) => panic!(
            "cannot run python3 ({e}): install Python 3 and `make pydeps` (pip install librouteros)"
        ),
        Ok(Ok(o)) => o,
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "librouteros check failed (exit {:?}); if librouteros is missing run `make pydeps`\nstdout: {stdout}\nstderr: {stderr}",
        out.status.code()
    );
    let seen: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("librouteros check printed no JSON ({e}): {stdout}\n{stderr}"));
    assert_eq!(seen["users"], 400);
    assert!(seen["thirty_enabled"].as_u64().unwrap() > 0);
    assert!(seen["ten_or_thirty"].as_u64().unwrap() <= 400);
    assert_eq!(seen["set_ok"], true);
    assert_eq!(seen["trap_command"], "no such command prefix");
    assert_eq!(seen["trap_argument"], "unknown parameter colour");
    assert!(seen["trap_duplicate"]
        .as_str()
        .unwrap()
        .contains("already have user"));
    assert_eq!(seen["token_login_identity"], "konter-sim");
    assert_eq!(seen["bad_login"], "invalid user name or password (6)");
    // What librouteros did is on the router.
    let id = seen["added_id"].as_str().unwrap().to_string();
    let (comment, disabled, sales, active) = sim.with_world(|w, _| {
        let u = w.user("pycheck1").expect("pycheck1 was added");
        assert_eq!(format!("*{:X}", u.id), id);
        (
            u.text("comment"),
            u.text("disabled"),
            w.scripts.items.len(),
            w.active.len(),
        )
    });
    assert_eq!(comment, "Audit: RUSAK 21/11/26 vc-777");
    assert_eq!(disabled, "true");
    assert_eq!(seen["sales_records"].as_u64().unwrap() as usize, sales);
    assert_eq!(seen["active"].as_u64().unwrap() as usize, active);
    sim.stop().await;
}
