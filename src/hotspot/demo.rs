//! The built-in router for `konter demo`: the simulator on a loopback port, in-process, on its
//! own thread and runtime so it lives beside whatever runtime the TUI builds.

use std::time::Duration;

use crate::config::Config;
use crate::routeros::sim::{SimConfig, SimServer};

/// A running demo router. Dropping it stops the simulator.
pub struct DemoRouter {
    pub addr: String,
    pub user: String,
    pub password: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DemoRouter {
    /// Points the config's `[router]` at this simulator.
    pub fn apply(&self, config: &mut Config) {
        config.router.addr = self.addr.clone();
        config.router.user = self.user.clone();
        config.router.password = self.password.clone();
    }
}

impl Drop for DemoRouter {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the simulator with `users` vouchers in every state on 127.0.0.1 (a free port), with
/// a voucher logging in every few seconds so F4 has something live to show.
pub fn start_demo_router(users: usize) -> Result<DemoRouter, String> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("demo-router".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return;
                }
            };
            rt.block_on(async move {
                let cfg = SimConfig {
                    users,
                    seed: 1,
                    login_every: Some(Duration::from_secs(5)),
                    ..Default::default()
                };
                match SimServer::start("127.0.0.1:0", cfg).await {
                    Ok(s) => {
                        let _ = ready_tx.send(Ok((
                            s.addr().to_string(),
                            s.user().to_string(),
                            s.password().to_string(),
                        )));
                        let _ = stop_rx.await;
                        s.stop().await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        })
        .map_err(|e| format!("cannot start the demo router: {e}"))?;
    let (addr, user, password) = ready_rx
        .recv()
        .map_err(|_| "the demo router stopped while starting".to_string())??;
    Ok(DemoRouter {
        addr,
        user,
        password,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn demo_router_serves_and_stops() {
        let r = start_demo_router(20).unwrap();
        let mut c = Config::default();
        r.apply(&mut c);
        let client = crate::routeros::Client::connect(
            &crate::routeros::ClientOptions::from_config(&c.router),
        )
        .await
        .unwrap();
        let users = client
            .hotspot_users(
                &crate::routeros::UserFilter::All,
                crate::routeros::UserProps::Sync,
            )
            .await
            .unwrap();
        assert_eq!(users.len(), 20);
        drop(client);
        // dropping stops the simulator and joins its thread
        tokio::task::spawn_blocking(move || drop(r)).await.unwrap();
    }
}
