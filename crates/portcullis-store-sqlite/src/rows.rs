//! JSON columns: arrays and small objects stored as TEXT (shared by both backends).

include!("../../portcullis-store-shared/rows.rs");
