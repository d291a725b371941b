//! Black-box tests: the real server on 127.0.0.1:0 with a fresh SQLite store per test,
//! driven over HTTP the way browsers and SDKs drive it.

mod helpers;

mod authorize_errors;
mod client_credentials;
mod code_flow;
mod implicit;
mod keys;
mod logout;
mod operations;
mod refresh;
mod silent_auth;
mod token_errors;
