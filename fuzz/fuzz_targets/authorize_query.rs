//! `GET /authorize?<input body>` through the real router, with the input's headers (a seed
//! sends the fixture's session cookie to get past the login redirect). No query makes the
//! server fail, and no answer redirects anywhere but to a registered callback or our pages.
#![no_main]

use axum::http::{header, Method};
use libfuzzer_sys::fuzz_target;
use portcullis_fuzz::{
    server::{assert_no_server_error, FIXTURE, SPA_ORIGIN},
    Input,
};

fuzz_target!(|data: &[u8]| {
    let input = Input::parse(data);
    let query = String::from_utf8_lossy(&FIXTURE.substitute(&input.body)).into_owned();
    let uri = format!("/authorize?{query}");
    let input = Input {
        headers: input.headers,
        body: Vec::new(),
    };
    let (status, headers, body) = FIXTURE.send(Method::GET, &uri, &input);
    assert_no_server_error(status, &body);
    if let Some(location) = headers.get(header::LOCATION) {
        // Raw non-ASCII bytes of the query are echoed into our own pages' URLs (HTTP allows
        // them there), so the header is compared as bytes.
        let location = String::from_utf8_lossy(location.as_bytes());
        assert!(
            location.starts_with('/') && !location.starts_with("//")
                || location.starts_with(&format!("{SPA_ORIGIN}/"))
                || location.starts_with(&format!("{SPA_ORIGIN}?"))
                || location.starts_with(&format!("{SPA_ORIGIN}#"))
                || location == SPA_ORIGIN,
            "redirected to {location}"
        );
    }
});
