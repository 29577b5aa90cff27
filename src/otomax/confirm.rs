//! Confirm to SQL Server goes through the staging side's one confirm path
//! ([`crate::store::confirm`]), the same as the embedded ledger's.

pub use crate::store::confirm::{confirm_batch, ConfirmReport};
