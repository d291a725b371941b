//! DPoP proofs seen. The code is shared with the PostgreSQL backend.

type Backend = crate::SqliteStore;

include!("../../portcullis-store-shared/dpop.rs");
