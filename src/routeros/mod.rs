//! The MikroTik RouterOS API: wire codec, logins, a tokio client with `.tag` multiplexing,
//! typed hotspot operations, a reconnecting [`Router`] handle with a status-bar state, and the
//! router simulator that `konter sim router`, `konter demo` and the tests run against.
//!
//! Callers above this module use [`Router`], [`Client`] and the typed operations in [`ops`]
//! (hotspot users, profiles, active sessions, scripts); API words stay in here.

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
    RouterClock, Script, UserChanges, UserFilter, UserProfile, UserProps,
};
pub use router::{Backoff, ConnState, Router};
