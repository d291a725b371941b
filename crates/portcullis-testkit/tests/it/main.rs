//! The storage conformance suite against both backends: each behaviour of
//! `portcullis_testkit::conformance` on a fresh SQLite file and on a fresh PostgreSQL database
//! of the test process's throwaway cluster.

use std::sync::Arc;

use portcullis_store::Store;
use portcullis_store_postgres::PgStore;
use portcullis_store_sqlite::SqliteStore;

/// A fresh SQLite store; the directory lives as long as the store is used.
async fn sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("conformance.db"))
        .await
        .expect("sqlite store");
    (Arc::new(store), dir)
}

/// A fresh PostgreSQL store in its own database.
async fn postgres() -> (Arc<dyn Store>, ()) {
    let url = portcullis_testkit::postgres::fresh_database().await;
    let store = PgStore::connect(&url).await.expect("postgres store");
    (Arc::new(store), ())
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, _dir) = super::sqlite().await;
                    portcullis_testkit::conformance::$name(store.as_ref()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, ()) = super::postgres().await;
                    portcullis_testkit::conformance::$name(store.as_ref()).await;
                }
            )*
        }
    };
}

conformance!(
    resource_server_crud,
    client_and_grant_crud,
    consents_upsert_filter_and_cascade,
    user_crud_and_email_case_insensitivity,
    list_pagination_and_total,
    sessions_expire,
    opaque_tokens_expire,
    codes_are_single_use_under_concurrency,
    refresh_rotation_outcomes,
    refresh_concurrent_rotation_has_one_winner,
    refresh_non_rotating_tokens_are_kept,
    refresh_insert_into_revoked_family_is_revoked,
    key_initialization_race_creates_one_set,
    key_rotation_and_import,
    throttle_counters,
    throttle_counters_by_prefix,
    roles_and_permissions,
    access_rules_crud,
    admins_crud,
    admin_sessions_expire,
    audit_log_filters,
    audit_log_batches,
    sessions_end_when_idle,
    ending_a_users_sessions_leaves_others_alone,
    sweep_deletes_only_what_expired,
    sweep_bounds_idle_families_and_the_log,
    dpop_proofs_are_single_use_and_swept,
    database_connection_settings_round_trip,
    user_metadata_round_trips,
    user_names_round_trip_and_clear,
    password_history_keeps_the_newest,
    email_templates_crud,
    emails_list_filter_and_follow_their_user,
    email_claims_lease_and_finish,
    concurrent_email_claims_never_share_a_message,
    sweep_deletes_old_emails,
    tickets_are_single_use_and_expire,
    mfa_counters_and_recovery_codes_are_single_use,
    mfa_tokens_are_taken_once_and_expire,
    webauthn_credentials_and_ceremonies,
    actions_versions_and_bindings,
    passkey_users_are_created_with_their_key_or_not_at_all,
    admin_mfa_pending_sessions_and_the_mandatory_setting,
);
