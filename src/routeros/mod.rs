//! The MikroTik RouterOS API: wire codec, logins, a tokio client with `.tag` multiplexing,
//! typed hotspot operations, a reconnecting [`Router`] handle with a status-bar state, and the
//! router simulator that `konter sim router`, `konter demo` and the tests run against.
//!
//! Callers above this module use [`Router`], [`Client`] and the typed operations in [`ops`]
//! (hotspot users, profiles, active sessions, scripts); API words stay in here.
//!
//! Typical use in a job:
//!
//! ```text
//! let router = Router::from_config(&config.router);     // state() feeds the status bar
//! let users = router
//!     .read(|c| async move { c.hotspot_users(&UserFilter::All, UserProps::Sync).await })
//!     .await?;                                           // reads retry once after a drop
//! let c = router.client_with_retry(3).await?;            // writes: no automatic retry
//! let results = c.add_hotspot_users(&new_users, 16, |i, r| progress(i, r)).await;
//! ```
//!
//! Writes are never repeated behind the caller's back: after a lost answer (`Disconnected`,
//! `Timeout`) the caller asks the router what exists (`UserFilter::Names`).
//!
//! In tests and the demo: `SimServer::start("127.0.0.1:0", SimConfig { .. })`, then
//! `sim.client_options()`; `sim.faults()` drops or stalls the connection at a chosen command or
//! reply (counted over all connections to that simulator).

pub mod client;
pub mod command;
pub mod login;
pub mod ops;
pub mod proto;
pub mod router;
pub mod sim;
pub mod tls;

pub use client::{Client, ClientOptions, RosError, TlsOptions, TlsVerify};
pub use ops::{
    format_uptime, parse_uptime, ActiveSession, HotspotUser, NewProfile, NewScript, NewUser,
    RouterClock, Script, SkippedUser, UserChanges, UserFilter, UserProfile, UserProps,
};
pub use router::{Backoff, ConnState, Router};
