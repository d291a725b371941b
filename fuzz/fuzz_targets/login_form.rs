//! The hosted forms' submissions (`/u/login`, `/u/signup`, `/u/consent`) through the real
//! router. The browser's CSRF cookie is sent and the form's `csrf` field is replaced by the
//! value the login page would have rendered for the form's `authorize_query`, so inputs reach
//! the parsing and checks behind the CSRF gate; a `:csrf: raw` line leaves the form as it is.
#![no_main]

use axum::http::Method;
use libfuzzer_sys::fuzz_target;
use portcullis_fuzz::{
    server::{assert_no_server_error, CSRF, CSRF_COOKIE, FIXTURE},
    Input,
};

fuzz_target!(|data: &[u8]| {
    let mut input = Input::parse(data);
    let path = match input.pseudo(":path") {
        Some("/u/signup") => "/u/signup",
        Some("/u/consent") => "/u/consent",
        _ => "/u/login",
    };
    if input.pseudo(":csrf") != Some("raw") {
        let body = FIXTURE.substitute(&input.body);
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body)
            .into_owned()
            .filter(|(name, _)| name != "csrf")
            .collect();
        let query = pairs
            .iter()
            .find(|(name, _)| name == "authorize_query")
            .map(|(_, value)| value.clone())
            .unwrap_or_default();
        let csrf = FIXTURE.csrf_for(&query);
        input.body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .append_pair("csrf", &csrf)
            .finish()
            .into_bytes();
        input
            .headers
            .push(("cookie".into(), format!("{CSRF_COOKIE}={CSRF}")));
        if !input
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        {
            input.headers.push((
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
        }
    }
    let (status, _, body) = FIXTURE.send(Method::POST, path, &input);
    assert_no_server_error(status, &body);
});
