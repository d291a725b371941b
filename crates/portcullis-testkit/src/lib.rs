//! Test support shared by the storage and server test suites (a dev-dependency only).
//!
//! - [`postgres`]: a throwaway PostgreSQL cluster (initdb + pg_ctl on a temporary directory
//!   and a free loopback port) and a fresh database per test. No mock.
//! - [`conformance`]: the storage conformance suite, one generic async function per behaviour
//!   over `&dyn Store`, which `tests/it` runs against SQLite and PostgreSQL.

pub mod conformance;
pub mod postgres;
