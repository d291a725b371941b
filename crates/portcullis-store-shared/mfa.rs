// Shared by both backends: `crates/portcullis-store-sqlite/src/mfa.rs` and
// `crates/portcullis-store-postgres/src/mfa.rs` include this file with the aliases `Row` (the
// backend's row type) and `Backend` (its store) in scope. Placeholders are `$N`, which
// PostgreSQL and SQLite both read, so one text of SQL serves both.
//
// Multi-factor authentication: the tenant's factors and policies, authenticators and recovery
// codes. A code is used, and a counter moved, by one conditional UPDATE each, so that two
// concurrent uses (two replicas, a double click) cannot both win; no lock hook is needed. The
// policies are replaced in one transaction.

use std::collections::BTreeSet;

use async_trait::async_trait;
use portcullis_store::{
    Authenticator, MfaOwner, MfaRepository, MfaSettings, StoreError,
};
use portcullis_types::{AuthMethod, MfaFactor, MfaPolicy};
use sqlx::Row as _;

use crate::{backend, rows::parse_stored};

/// A list of authentication methods as stored: their spellings, space-separated.
pub(crate) fn amr_text(amr: &[AuthMethod]) -> String {
    amr.iter()
        .map(|method| method.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The stored list of authentication methods, parsed back.
pub(crate) fn amr_from(text: &str) -> Result<Vec<AuthMethod>, StoreError> {
    text.split(' ')
        .filter(|method| !method.is_empty())
        .map(parse_stored)
        .collect()
}

/// The column naming an authenticator's owner. Chosen from the enum, never from input, so it
/// is safe to place in the SQL text.
fn owner_column(owner: &MfaOwner) -> &'static str {
    match owner {
        MfaOwner::User(_) => "user_id",
        MfaOwner::Admin(_) => "admin_id",
    }
}

pub(crate) fn authenticator_from_row(row: &Row) -> Result<Authenticator, StoreError> {
    let user_id: Option<String> = row.try_get("user_id").map_err(backend)?;
    let admin_id: Option<String> = row.try_get("admin_id").map_err(backend)?;
    let owner = match (user_id, admin_id) {
        (Some(user), None) => MfaOwner::User(user),
        (None, Some(admin)) => MfaOwner::Admin(admin),
        _ => return Err(StoreError::Backend("an authenticator has no single owner".into())),
    };
    Ok(Authenticator {
        id: row.try_get("id").map_err(backend)?,
        owner,
        kind: parse_stored(row.try_get("kind").map_err(backend)?)?,
        name: row.try_get("name").map_err(backend)?,
        confirmed: row.try_get("confirmed").map_err(backend)?,
        secret: row.try_get("secret").map_err(backend)?,
        counter: row.try_get("counter").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
        last_used_at: row.try_get("last_used_at").map_err(backend)?,
    })
}

impl Backend {
    /// Inserts an authenticator, with its WebAuthn credential id when it is a key (a unique
    /// column: a credential is enrolled once).
    pub(crate) async fn insert_authenticator_row(
        &self,
        authenticator: &Authenticator,
        credential_id: Option<&str>,
    ) -> Result<(), StoreError> {
        insert_authenticator_in(&self.pool, authenticator, credential_id).await
    }
}

/// Inserts an authenticator's row through `executor` (the pool, or the transaction that
/// creates its owner with it).
pub(crate) async fn insert_authenticator_in<'e, E>(
    executor: E,
    authenticator: &Authenticator,
    credential_id: Option<&str>,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = crate::Db>,
{
    let (user_id, admin_id) = match &authenticator.owner {
        MfaOwner::User(id) => (Some(id.as_str()), None),
        MfaOwner::Admin(id) => (None, Some(id.as_str())),
    };
    sqlx::query(
        "INSERT INTO authenticators (id, user_id, admin_id, kind, name, confirmed, secret,
           counter, created_at, last_used_at, credential_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&authenticator.id)
    .bind(user_id)
    .bind(admin_id)
    .bind(authenticator.kind.as_str())
    .bind(&authenticator.name)
    .bind(authenticator.confirmed)
    .bind(&authenticator.secret)
    .bind(authenticator.counter)
    .bind(authenticator.created_at)
    .bind(authenticator.last_used_at)
    .bind(credential_id)
    .execute(executor)
    .await
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl MfaRepository for Backend {
    async fn mfa_settings(&self) -> Result<MfaSettings, StoreError> {
        let factors = sqlx::query("SELECT name FROM mfa_factors WHERE enabled = TRUE")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let enabled = factors
            .iter()
            .map(|row| parse_stored::<MfaFactor>(row.try_get("name").map_err(backend)?))
            .collect::<Result<BTreeSet<_>, _>>()?;
        let policies = sqlx::query("SELECT policy FROM mfa_policies ORDER BY policy")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?
            .iter()
            .map(|row| parse_stored::<MfaPolicy>(row.try_get("policy").map_err(backend)?))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(MfaSettings { enabled, policies })
    }

    async fn set_mfa_factor(&self, factor: MfaFactor, enabled: bool) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO mfa_factors (name, enabled) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled",
        )
        .bind(factor.as_str())
        .bind(enabled)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn set_mfa_policies(&self, policies: &[MfaPolicy]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("DELETE FROM mfa_policies")
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        for policy in policies.iter().collect::<BTreeSet<_>>() {
            sqlx::query("INSERT INTO mfa_policies (policy) VALUES ($1)")
                .bind(policy.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn insert_authenticator(&self, authenticator: &Authenticator) -> Result<(), StoreError> {
        self.insert_authenticator_row(authenticator, None).await
    }

    async fn authenticators(&self, owner: &MfaOwner) -> Result<Vec<Authenticator>, StoreError> {
        let sql = format!(
            "SELECT * FROM authenticators WHERE {} = $1 ORDER BY created_at, id",
            owner_column(owner)
        );
        sqlx::query(&sql)
            .bind(owner.id())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?
            .iter()
            .map(authenticator_from_row)
            .collect()
    }

    async fn confirm_authenticator(&self, owner: &MfaOwner, id: &str) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE authenticators SET confirmed = TRUE WHERE id = $1 AND {} = $2",
            owner_column(owner)
        );
        let done = sqlx::query(&sql)
            .bind(id)
            .bind(owner.id())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn advance_authenticator(
        &self,
        id: &str,
        counter: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE authenticators SET counter = $1, last_used_at = $2
             WHERE id = $3 AND counter < $1",
        )
        .bind(counter)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_authenticator(&self, owner: &MfaOwner, id: &str) -> Result<bool, StoreError> {
        let sql = format!(
            "DELETE FROM authenticators WHERE id = $1 AND {} = $2",
            owner_column(owner)
        );
        let done = sqlx::query(&sql)
            .bind(id)
            .bind(owner.id())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_authenticators(&self, owner: &MfaOwner) -> Result<u64, StoreError> {
        let sql = format!(
            "DELETE FROM authenticators WHERE {} = $1",
            owner_column(owner)
        );
        let done = sqlx::query(&sql)
            .bind(owner.id())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn delete_unconfirmed_authenticators(&self, owner: &MfaOwner) -> Result<(), StoreError> {
        let sql = format!(
            "DELETE FROM authenticators WHERE {} = $1 AND confirmed = FALSE",
            owner_column(owner)
        );
        sqlx::query(&sql)
            .bind(owner.id())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn insert_recovery_codes(
        &self,
        authenticator_id: &str,
        code_hashes: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        for hash in code_hashes {
            sqlx::query(
                "INSERT INTO recovery_codes (code_hash, authenticator_id, used_at)
                 VALUES ($1, $2, NULL)",
            )
            .bind(hash)
            .bind(authenticator_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn use_recovery_code(
        &self,
        owner: &MfaOwner,
        code_hash: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE recovery_codes SET used_at = $1
             WHERE code_hash = $2 AND used_at IS NULL
               AND authenticator_id IN (
                 SELECT id FROM authenticators WHERE {} = $3 AND confirmed = TRUE)",
            owner_column(owner)
        );
        let done = sqlx::query(&sql)
            .bind(now)
            .bind(code_hash)
            .bind(owner.id())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn unused_recovery_codes(&self, authenticator_id: &str) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS unused FROM recovery_codes
             WHERE authenticator_id = $1 AND used_at IS NULL",
        )
        .bind(authenticator_id)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        let unused: i64 = row.try_get("unused").map_err(backend)?;
        Ok(u64::try_from(unused).unwrap_or(0))
    }

    async fn record_session_mfa(
        &self,
        id_hash: &[u8],
        amr: &[AuthMethod],
        mfa_time: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE login_sessions SET amr = $1, mfa_time = $2 WHERE id_hash = $3")
            .bind(amr_text(amr))
            .bind(mfa_time)
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn complete_admin_session_mfa(&self, id_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query("UPDATE admin_sessions SET mfa_pending = FALSE WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn admin_mfa_required(&self) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT required FROM admin_mfa_settings WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        match row {
            Some(row) => row.try_get("required").map_err(backend),
            None => Ok(false),
        }
    }

    async fn set_admin_mfa_required(&self, required: bool) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO admin_mfa_settings (id, required) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET required = excluded.required",
        )
        .bind(required)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }
}
