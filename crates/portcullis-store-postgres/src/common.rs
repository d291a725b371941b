//! Error mapping, page bounds and LIKE patterns (shared by both backends).

include!("../../portcullis-store-shared/common.rs");
