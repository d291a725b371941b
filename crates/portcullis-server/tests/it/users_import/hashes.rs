//! `custom_password_hash` end to end: each algorithm of Auth0's schema that Portcullis checks,
//! imported with a hash made by a reference implementation, refuses a wrong password, signs in
//! with the original one, is replaced by argon2id, and signs in again.
//!
//! The vectors are fixed. The argon2 strings are the reference implementation's test vectors
//! (password `password`, salt `somesalt`); the bcrypt string is the import fixture's (Python's
//! `bcrypt`); every other one was computed with Python's `hashlib` and `hmac`, as each case's
//! comment says (`b64` is `base64.b64encode`, `B64` the same without `=`).

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{browser_signed_in, stored_hash};
use crate::{helpers::*, management_support::*};

/// One imported user: the row's `custom_password_hash`, the password it was made from, and
/// how the stored hash starts before the first sign-in.
struct Case {
    email: &'static str,
    password: &'static str,
    custom: Value,
    stored_prefix: &'static str,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            email: "argon2id@example.com",
            password: "password",
            custom: json!({"algorithm": "argon2", "hash": {"value":
                "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"}}),
            // Already argon2id: kept as it came, and not replaced (its own parameters stay).
            stored_prefix: "$argon2id$v=19$m=65536,t=2,p=1$",
        },
        Case {
            email: "argon2i@example.com",
            password: "password",
            custom: json!({"algorithm": "argon2", "hash": {"encoding": "utf8", "value":
                "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA"}}),
            stored_prefix: "$argon2i$",
        },
        Case {
            // The import fixture's $2a$ hash of Ada's password.
            email: "bcrypt@example.com",
            password: "Analytical-Engine-1843",
            custom: json!({"algorithm": "bcrypt", "hash": {"value":
                "$2a$10$QSH7jFssLIPBj8m/R4/vtOzs3J1MkkmqTR.F46uLxLj3GqeqyEXli"}}),
            stored_prefix: "$2a$10$",
        },
        Case {
            // hashlib.sha512(b"pepper-salt" + b"Sha512-Secret!").hexdigest()
            email: "sha512@example.com",
            password: "Sha512-Secret!",
            custom: json!({"algorithm": "sha512",
                "hash": {"encoding": "hex", "value": "c40f1399b02272427f7e6b2864d65edfc9657c45a3ad07f5aa4b1f80b92fcd37e49e04664edae0283334c0c0f2f88bbfe3376f71a0514c4eed13473ace780b67"},
                "salt": {"value": "pepper-salt", "position": "prefix"}}),
            stored_prefix: "$portcullis-digest$",
        },
        Case {
            // b64(hashlib.md5(b"Md5-Secret!" + b"NaCl").digest()): a suffix salt, base64.
            email: "md5@example.com",
            password: "Md5-Secret!",
            custom: json!({"algorithm": "md5",
                "hash": {"encoding": "base64", "value": "WdkMylmHr10PeQjQeFxZIQ=="},
                "salt": {"value": "NaCl", "encoding": "utf8", "position": "suffix"}}),
            stored_prefix: "$portcullis-digest$",
        },
        Case {
            // hashlib.sha1(bytes.fromhex("0a0b0c") + b"Sha1-Secret!").hexdigest().upper():
            // upper-case hex, a salt given in hex.
            email: "sha1@example.com",
            password: "Sha1-Secret!",
            custom: json!({"algorithm": "sha1",
                "hash": {"encoding": "hex", "value": "CAC06E3BF3A159A887A0EBA462B0DE3DC2120B35"},
                "salt": {"value": "0a0b0c", "encoding": "hex", "position": "prefix"}}),
            stored_prefix: "$portcullis-digest$",
        },
        Case {
            // base64.urlsafe_b64encode(hashlib.sha256(b"Sha256-Secret!" + b"salty").digest()):
            // URL-safe base64, a suffix salt given in base64.
            email: "sha256@example.com",
            password: "Sha256-Secret!",
            custom: json!({"algorithm": "sha256",
                "hash": {"encoding": "base64", "value": "JRsrcOui_PsGyOZbutxd7GEdFtKCQrk83iRGJ9IZHFU="},
                "salt": {"value": "c2FsdHk=", "encoding": "base64", "position": "suffix"}}),
            stored_prefix: "$portcullis-digest$",
        },
        Case {
            // hashlib.pbkdf2_hmac("sha256", b"Pbkdf2-Secret!", b"pbkdf2-salt-0123", 10000, 32),
            // salt and hash in B64: Auth0's PHC form.
            email: "pbkdf2-sha256@example.com",
            password: "Pbkdf2-Secret!",
            custom: json!({"algorithm": "pbkdf2", "hash": {"value":
                "$pbkdf2-sha256$i=10000,l=32$cGJrZGYyLXNhbHQtMDEyMw$iwC3KT07r80f3q44dDdeZKJSM+/goBvVxoA/XNK/O6I"}}),
            stored_prefix: "$pbkdf2-sha256$",
        },
        Case {
            // The same with "sha1" and l=20, as Auth0's documentation spells it.
            email: "pbkdf2-sha1@example.com",
            password: "Pbkdf2-Secret!",
            custom: json!({"algorithm": "pbkdf2", "hash": {"value":
                "$pbkdf2-sha1$i=10000,l=20$cGJrZGYyLXNhbHQtMDEyMw$L3K1pRz1n778ozfWT9nGUevIa+Y"}}),
            stored_prefix: "$pbkdf2-sha1$",
        },
        Case {
            // The same with "sha512" and l=64.
            email: "pbkdf2-sha512@example.com",
            password: "Pbkdf2-Secret!",
            custom: json!({"algorithm": "pbkdf2", "hash": {"value":
                "$pbkdf2-sha512$i=10000,l=64$cGJrZGYyLXNhbHQtMDEyMw$6xIdwbq9RSH8rcbMS0NX3bg5qZYfAU/7nGOWDCopVX88DzrijGektG0bP9FsoNf6W30GE1cpIKrAvtTpLMkH+w"}}),
            stored_prefix: "$pbkdf2-sha512$",
        },
        Case {
            // b64(hashlib.scrypt(b"Scrypt-Secret!", salt=b"scrypt-salt", n=16384, r=8, p=1,
            // dklen=64))
            email: "scrypt@example.com",
            password: "Scrypt-Secret!",
            custom: json!({"algorithm": "scrypt",
                "hash": {"encoding": "base64", "value": "MltHrXxiE8fdPue3tdPI3oKFWj+dE2lcgxofwOx4j8agsWd7wRgtHpXkOb+CoH2Bg8XMkj7A6yk7yAGvxL038w=="},
                "salt": {"value": "scrypt-salt"},
                "keylen": 64, "cost": 16384, "blockSize": 8, "parallelization": 1}),
            stored_prefix: "$portcullis-scrypt$",
        },
        Case {
            // hmac.new(b"hmac-key", b"NaCl" + b"Hmac-Secret!", hashlib.sha256).hexdigest()
            email: "hmac-sha256@example.com",
            password: "Hmac-Secret!",
            custom: json!({"algorithm": "hmac",
                "hash": {"encoding": "hex", "digest": "sha256",
                    "value": "3042e1766096aad6b30ab5ab35076a50d2240461c211fe10ec6ec78c6c1c5646",
                    "key": {"value": "hmac-key"}},
                "salt": {"value": "NaCl", "position": "prefix"}}),
            stored_prefix: "$portcullis-digest$",
        },
        Case {
            // b64(hmac.new(bytes.fromhex("00ff"), b"Hmac-Secret!", hashlib.sha512).digest()):
            // no salt, the key in hex.
            email: "hmac-sha512@example.com",
            password: "Hmac-Secret!",
            custom: json!({"algorithm": "hmac",
                "hash": {"encoding": "base64", "digest": "sha512",
                    "value": "i8EHX9KEwk1ZOg4MaMpo4Aurpeh5YNND3XAnKlB66asPLy/D7w2t3onhvmy+N+3Io2m1HF719AEMA0BvlCO8HA==",
                    "key": {"value": "00ff", "encoding": "hex"}}}),
            stored_prefix: "$portcullis-digest$",
        },
    ]
}

#[tokio::test]
async fn each_custom_password_hash_algorithm_signs_in_with_the_original_password() {
    let mgmt = spawn_mgmt().await;
    let cases = cases();
    let rows: Vec<Value> = cases
        .iter()
        .map(|case| json!({"email": case.email, "custom_password_hash": case.custom}))
        .collect();
    let connection_id = mgmt.connection_id().await;
    let (status, job) = mgmt
        .import(
            Value::from(rows).to_string().into_bytes(),
            &[("connection_id", &connection_id)],
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let id = job["id"].as_str().unwrap();
    let (_, errors) = mgmt.get(&format!("/jobs/{id}/errors")).await;
    assert_eq!(
        job["summary"]["inserted"],
        cases.len(),
        "every row imported: {errors}"
    );

    let app = &mgmt.app;
    app.create_api(false).await;
    let spa = app.create_spa(false).await;
    for case in &cases {
        let email = case.email;
        let imported = stored_hash(app, email).await;
        assert!(
            imported.starts_with(case.stored_prefix),
            "{email}: {imported}"
        );

        // A wrong password is refused, and the imported hash stays.
        let (_, challenge) = pkce();
        let url = app.authorize_url(
            &spa,
            &[
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        let refused = app
            .login_via_form(&browser(), &url, email, &format!("{}x", case.password))
            .await;
        assert_eq!(
            refused.status(),
            StatusCode::UNAUTHORIZED,
            "{email}: refused"
        );
        assert_eq!(stored_hash(app, email).await, imported, "{email}: kept");

        // The original password signs in; the hash becomes argon2id, which signs in again.
        browser_signed_in(app, &spa, email, case.password).await;
        let upgraded = stored_hash(app, email).await;
        assert!(upgraded.starts_with("$argon2id$"), "{email}: {upgraded}");
        if case.stored_prefix.starts_with("$argon2id$") {
            assert_eq!(upgraded, imported, "{email}: an argon2id hash is kept");
        } else {
            assert_ne!(upgraded, imported, "{email}: replaced");
        }
        browser_signed_in(app, &spa, email, case.password).await;
        assert_eq!(stored_hash(app, email).await, upgraded, "{email}: once");
    }
}

#[tokio::test]
async fn hashes_outside_auth0s_schema_or_this_servers_algorithms_are_refused_per_row() {
    let mgmt = spawn_mgmt().await;
    let hex = |n: usize| "ab".repeat(n);
    let refused = [
        // No hash.encoding: Auth0's default, utf8, is not a digest's.
        (
            json!({"algorithm": "sha256", "hash": {"value": hex(32)}}),
            "hash.encoding must be hex or base64",
        ),
        (
            json!({"algorithm": "sha256", "hash": {"value": hex(20), "encoding": "hex"}}),
            "has 20 bytes; a sha256 hash has 32",
        ),
        (
            json!({"algorithm": "md4", "hash": {"value": hex(16), "encoding": "hex"}}),
            "md4 is not supported",
        ),
        (
            json!({"algorithm": "ldap", "hash": {"value": "{SHA}abc"}}),
            "ldap is not supported",
        ),
        (
            json!({"algorithm": "whirlpool", "hash": {"value": "x"}}),
            "is not one of argon2",
        ),
        (
            json!({"algorithm": "hmac", "hash": {"value": hex(32), "encoding": "hex", "digest": "sha256"}}),
            "hash.key is required for hmac",
        ),
        (
            json!({"algorithm": "hmac", "hash": {"value": hex(20), "encoding": "hex", "digest": "ripemd160", "key": {"value": "k"}}}),
            "ripemd160 is not supported",
        ),
        (
            json!({"algorithm": "sha1", "hash": {"value": hex(20), "encoding": "hex", "key": {"value": "k"}}}),
            "only for the hmac algorithm",
        ),
        (
            json!({"algorithm": "scrypt", "hash": {"value": hex(64), "encoding": "hex"}, "salt": {"value": "s"}}),
            "keylen is required",
        ),
        (
            json!({"algorithm": "scrypt", "hash": {"value": hex(64), "encoding": "hex"}, "salt": {"value": "s"}, "keylen": 64, "cost": 4194304}),
            "at most 256 MiB",
        ),
        (
            json!({"algorithm": "pbkdf2", "hash": {"value": "$pbkdf2-sha256$i=10000,l=32$c2FsdA$notbase64!"}}),
            "PBKDF2 PHC string",
        ),
        (
            json!({"algorithm": "argon2", "hash": {"value": "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"}, "salt": {"value": "s", "position": "prefix"}}),
            "salt is not allowed for argon2",
        ),
        (
            json!({"algorithm": "sha512", "hash": {"value": hex(64), "encoding": "hex"}, "salt": {"value": "s", "position": "middle"}}),
            "salt.position must be prefix or suffix",
        ),
        (
            json!({"algorithm": "md5", "hash": {"value": hex(16), "encoding": "hex"}, "password": {"encoding": "latin1"}}),
            "password.encoding latin1 is not supported",
        ),
        (
            json!({"algorithm": "md5", "hash": {"value": hex(16), "encoding": "hex"}, "iterations": 2}),
            "additional property not allowed: iterations",
        ),
    ];
    let rows: Vec<Value> = refused
        .iter()
        .enumerate()
        .map(|(n, (custom, _))| json!({"email": format!("row{n}@example.com"), "custom_password_hash": custom}))
        .collect();
    let connection_id = mgmt.connection_id().await;
    let (status, job) = mgmt
        .import(
            Value::from(rows).to_string().into_bytes(),
            &[("connection_id", &connection_id)],
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["summary"]["failed"], refused.len(), "{job}");
    let (_, errors) = mgmt
        .get(&format!("/jobs/{}/errors", job["id"].as_str().unwrap()))
        .await;
    for (row, (_, expected)) in errors.as_array().unwrap().iter().zip(&refused) {
        let error = &row["errors"][0];
        assert_eq!(error["code"], "INVALID_FORMAT", "{row}");
        assert_eq!(error["path"], "custom_password_hash", "{row}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(expected), "{expected} in {message}");
        assert!(
            row["user"].get("custom_password_hash").is_none(),
            "never echoed"
        );
    }
}
