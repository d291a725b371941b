//! `POST /oauth/token` and `POST /oauth/revoke` through the real router: the input's headers
//! (`content-type` picks the form or JSON parser, `authorization` client credentials) and its
//! body. A `:path: /oauth/revoke` line sends it to the revocation endpoint instead.
#![no_main]

use axum::http::Method;
use libfuzzer_sys::fuzz_target;
use portcullis_fuzz::{
    server::{assert_no_server_error, FIXTURE},
    Input,
};

fuzz_target!(|data: &[u8]| {
    let input = Input::parse(data);
    let path = match input.pseudo(":path") {
        Some("/oauth/revoke") => "/oauth/revoke",
        _ => "/oauth/token",
    };
    let (status, _, body) = FIXTURE.send(Method::POST, path, &input);
    assert_no_server_error(status, &body);
});
