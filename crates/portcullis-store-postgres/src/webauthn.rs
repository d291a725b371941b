//! WebAuthn credentials and ceremonies. The code is shared with the other backend.

type Backend = crate::PgStore;

include!("../../portcullis-store-shared/webauthn.rs");
