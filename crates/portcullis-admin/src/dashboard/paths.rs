//! The dashboard's own URLs, built in one place so that sections can link to each other
//! without depending on each other.

use super::view::segment;

/// `/dashboard/apis/{id}/{tab}`.
pub fn api(id: &str, tab: &str) -> String {
    format!("/dashboard/apis/{}/{tab}", segment(id))
}

/// `/dashboard/applications/{id}/{tab}`.
pub fn application(client_id: &str, tab: &str) -> String {
    format!("/dashboard/applications/{}/{tab}", segment(client_id))
}

/// `/dashboard/users/{id}/{tab}`.
pub fn user(user_id: &str, tab: &str) -> String {
    format!("/dashboard/users/{}/{tab}", segment(user_id))
}

/// `/dashboard/roles/{id}/{tab}`.
pub fn role(role_id: &str, tab: &str) -> String {
    format!("/dashboard/roles/{}/{tab}", segment(role_id))
}

/// `/dashboard/emails/templates/{name}`.
pub fn email_template(name: &str) -> String {
    format!("/dashboard/emails/templates/{}", segment(name))
}
