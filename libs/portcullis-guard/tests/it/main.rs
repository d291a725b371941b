//! Integration tests for portcullis-guard: tokens minted here with keys generated here, keys
//! served by a loopback JWKS server that counts its fetches.

mod access;
mod algorithms;
mod dpop;
mod jwks_cache;
mod jwks_faults;
mod rejections;
mod resource_metadata;
mod support;
