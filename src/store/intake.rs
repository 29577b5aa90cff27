//! Products, staging batches and rows, and the embedded voucher ledger.
