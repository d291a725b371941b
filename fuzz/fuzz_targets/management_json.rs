//! The Management API's JSON bodies through the real router, with a token holding every
//! scope. `:method` and `:path` lines name the operation (with placeholders for the fixture's
//! objects); an operation outside the table of those that take a body is replaced by one of
//! the table, chosen by the input's length, so every input exercises some request type.
#![no_main]

use axum::http::Method;
use libfuzzer_sys::fuzz_target;
use portcullis_fuzz::{
    server::{assert_no_server_error, FIXTURE},
    Input,
};

/// Every operation that deserializes a JSON body.
const OPERATIONS: &[(&str, &str)] = &[
    ("POST", "/resource-servers"),
    ("PATCH", "/resource-servers/{api_id}"),
    ("POST", "/resource-servers/{api_id}/rules"),
    ("POST", "/clients"),
    ("PATCH", "/clients/{m2m}"),
    ("POST", "/client-grants"),
    ("PATCH", "/client-grants/{grant}"),
    ("POST", "/users"),
    ("PATCH", "/users/{user}"),
    ("POST", "/users/{user}/roles"),
    ("DELETE", "/users/{user}/roles"),
    ("POST", "/users/{user}/permissions"),
    ("DELETE", "/users/{user}/permissions"),
    ("POST", "/roles"),
    ("PATCH", "/roles/{role}"),
    ("POST", "/roles/{role}/permissions"),
    ("DELETE", "/roles/{role}/permissions"),
    ("POST", "/roles/{role}/users"),
];

fuzz_target!(|data: &[u8]| {
    let mut input = Input::parse(data);
    let wanted = (
        input.pseudo(":method").unwrap_or_default(),
        input.pseudo(":path").unwrap_or_default(),
    );
    let (method, path) = OPERATIONS
        .iter()
        .find(|(method, path)| (*method, *path) == wanted)
        .copied()
        .unwrap_or(OPERATIONS[data.len() % OPERATIONS.len()]);
    let path = String::from_utf8_lossy(&FIXTURE.substitute(path.as_bytes())).into_owned();
    input
        .headers
        .push(("authorization".into(), "Bearer {management_token}".into()));
    if !input
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
    {
        input
            .headers
            .push(("content-type".into(), "application/json".into()));
    }
    let method = Method::from_bytes(method.as_bytes()).expect("a method of the table");
    let (status, _, body) = FIXTURE.send(method, &format!("/api/v2{path}"), &input);
    assert_no_server_error(status, &body);
});
