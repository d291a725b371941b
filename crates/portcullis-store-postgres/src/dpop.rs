//! DPoP proofs seen. The code is shared with the SQLite backend.

type Backend = crate::PgStore;

include!("../../portcullis-store-shared/dpop.rs");
