// Shared by both backends: `crates/portcullis-store-sqlite/src/clients.rs` and
// `crates/portcullis-store-postgres/src/clients.rs` include this file with the aliases `Row` (the
// backend's row type) and `Backend` (its store) in scope. Placeholders are `$N`, which
// PostgreSQL and SQLite both read, so one text of SQL serves both.
//
// APIs, applications and client grants.
//
// It calls none of the backends' lock hooks; only signing keys and refresh-token families
// need them.

use async_trait::async_trait;
use portcullis_store::{
    AppType, Client, ClientGrant, ClientGrantRepository, ClientRepository, Page, ResourceServer,
    ResourceServerRepository, StoreError,
};
use sqlx::Row as _;

use crate::{
    backend, limits,
    rows::{from_json, parse_stored, to_json},
};

fn resource_server_from_row(row: &Row) -> Result<ResourceServer, StoreError> {
    Ok(ResourceServer {
        id: row.try_get("id").map_err(backend)?,
        name: row.try_get("name").map_err(backend)?,
        identifier: row.try_get("identifier").map_err(backend)?,
        signing_alg: parse_stored(row.try_get("signing_alg").map_err(backend)?)?,
        scopes: from_json(row.try_get::<&str, _>("scopes").map_err(backend)?)?,
        token_lifetime: row.try_get("token_lifetime").map_err(backend)?,
        token_lifetime_for_web: row.try_get("token_lifetime_for_web").map_err(backend)?,
        allow_offline_access: row.try_get("allow_offline_access").map_err(backend)?,
        skip_consent_for_verifiable_first_party_clients: row
            .try_get("skip_consent")
            .map_err(backend)?,
        enforce_policies: row.try_get("enforce_policies").map_err(backend)?,
        token_dialect: parse_stored(row.try_get("token_dialect").map_err(backend)?)?,
        is_system: row.try_get("is_system").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
        signing_secret: row.try_get("signing_secret").map_err(backend)?,
    })
}

#[async_trait]
impl ResourceServerRepository for Backend {
    async fn create_resource_server(&self, api: &ResourceServer) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO resource_servers (id, name, identifier, signing_alg, scopes,
               token_lifetime, token_lifetime_for_web, allow_offline_access, skip_consent,
               enforce_policies, token_dialect, is_system, created_at, signing_secret)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&api.id)
        .bind(&api.name)
        .bind(&api.identifier)
        .bind(api.signing_alg.as_str())
        .bind(to_json(&api.scopes)?)
        .bind(api.token_lifetime)
        .bind(api.token_lifetime_for_web)
        .bind(api.allow_offline_access)
        .bind(api.skip_consent_for_verifiable_first_party_clients)
        .bind(api.enforce_policies)
        .bind(api.token_dialect.as_str())
        .bind(api.is_system)
        .bind(api.created_at)
        .bind(&api.signing_secret)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn resource_server_by_id(&self, id: &str) -> Result<Option<ResourceServer>, StoreError> {
        sqlx::query("SELECT * FROM resource_servers WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(resource_server_from_row)
            .transpose()
    }

    async fn resource_server_by_identifier(
        &self,
        identifier: &str,
    ) -> Result<Option<ResourceServer>, StoreError> {
        sqlx::query("SELECT * FROM resource_servers WHERE identifier = $1")
            .bind(identifier)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(resource_server_from_row)
            .transpose()
    }

    async fn list_resource_servers(
        &self,
        page: Page,
    ) -> Result<(Vec<ResourceServer>, u64), StoreError> {
        let (limit, offset) = limits(page);
        let rows = sqlx::query(
            "SELECT * FROM resource_servers ORDER BY created_at, id LIMIT $1 OFFSET $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM resource_servers")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        let items = rows
            .iter()
            .map(resource_server_from_row)
            .collect::<Result<_, _>>()?;
        Ok((items, total.unsigned_abs()))
    }

    async fn update_resource_server(&self, api: &ResourceServer) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE resource_servers SET name = $1, identifier = $2, signing_alg = $3, scopes = $4,
               token_lifetime = $5, token_lifetime_for_web = $6, allow_offline_access = $7,
               skip_consent = $8, enforce_policies = $9, token_dialect = $10, signing_secret = $11
             WHERE id = $12",
        )
        .bind(&api.name)
        .bind(&api.identifier)
        .bind(api.signing_alg.as_str())
        .bind(to_json(&api.scopes)?)
        .bind(api.token_lifetime)
        .bind(api.token_lifetime_for_web)
        .bind(api.allow_offline_access)
        .bind(api.skip_consent_for_verifiable_first_party_clients)
        .bind(api.enforce_policies)
        .bind(api.token_dialect.as_str())
        .bind(&api.signing_secret)
        .bind(&api.id)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        found(done.rows_affected())
    }

    async fn delete_resource_server(&self, id: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM resource_servers WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        found(done.rows_affected())
    }
}

pub(crate) fn found(rows_affected: u64) -> Result<(), StoreError> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

fn client_from_row(row: &Row) -> Result<Client, StoreError> {
    let app_type: String = row.try_get("app_type").map_err(backend)?;
    Ok(Client {
        client_id: row.try_get("client_id").map_err(backend)?,
        name: row.try_get("name").map_err(backend)?,
        app_type: AppType::parse(&app_type)
            .ok_or_else(|| StoreError::Backend(format!("unknown app_type {app_type}")))?,
        client_secret_hash: row.try_get("client_secret_hash").map_err(backend)?,
        token_endpoint_auth_method: parse_stored(
            row.try_get("token_endpoint_auth_method").map_err(backend)?,
        )?,
        callbacks: from_json(row.try_get::<&str, _>("callbacks").map_err(backend)?)?,
        allowed_logout_urls: from_json(
            row.try_get::<&str, _>("allowed_logout_urls")
                .map_err(backend)?,
        )?,
        web_origins: from_json(row.try_get::<&str, _>("web_origins").map_err(backend)?)?,
        allowed_origins: from_json(row.try_get::<&str, _>("allowed_origins").map_err(backend)?)?,
        grant_types: from_json(row.try_get::<&str, _>("grant_types").map_err(backend)?)?,
        id_token_lifetime: row.try_get("id_token_lifetime").map_err(backend)?,
        refresh_token: from_json(row.try_get::<&str, _>("refresh_token").map_err(backend)?)?,
        is_first_party: row.try_get("is_first_party").map_err(backend)?,
        client_metadata: from_json(row.try_get::<&str, _>("client_metadata").map_err(backend)?)?,
        created_at: row.try_get("created_at").map_err(backend)?,
    })
}

#[async_trait]
impl ClientRepository for Backend {
    async fn create_client(&self, client: &Client) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO clients (client_id, name, app_type, client_secret_hash,
               token_endpoint_auth_method, callbacks, allowed_logout_urls, web_origins,
               allowed_origins, grant_types, id_token_lifetime, refresh_token, is_first_party,
               created_at, client_metadata)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&client.client_id)
        .bind(&client.name)
        .bind(client.app_type.as_str())
        .bind(&client.client_secret_hash)
        .bind(client.token_endpoint_auth_method.as_str())
        .bind(to_json(&client.callbacks)?)
        .bind(to_json(&client.allowed_logout_urls)?)
        .bind(to_json(&client.web_origins)?)
        .bind(to_json(&client.allowed_origins)?)
        .bind(to_json(&client.grant_types)?)
        .bind(client.id_token_lifetime)
        .bind(to_json(&client.refresh_token)?)
        .bind(client.is_first_party)
        .bind(client.created_at)
        .bind(to_json(&client.client_metadata)?)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn client_by_id(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        sqlx::query("SELECT * FROM clients WHERE client_id = $1")
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(client_from_row)
            .transpose()
    }

    async fn list_clients(&self, page: Page) -> Result<(Vec<Client>, u64), StoreError> {
        let (limit, offset) = limits(page);
        let rows =
            sqlx::query("SELECT * FROM clients ORDER BY created_at, client_id LIMIT $1 OFFSET $2")
                .bind(limit)
                .bind(offset)
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clients")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        let items = rows.iter().map(client_from_row).collect::<Result<_, _>>()?;
        Ok((items, total.unsigned_abs()))
    }

    async fn update_client(&self, client: &Client) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE clients SET name = $1, app_type = $2, client_secret_hash = $3,
               token_endpoint_auth_method = $4, callbacks = $5, allowed_logout_urls = $6,
               web_origins = $7, allowed_origins = $8, grant_types = $9, id_token_lifetime = $10,
               refresh_token = $11, is_first_party = $12, client_metadata = $13
             WHERE client_id = $14",
        )
        .bind(&client.name)
        .bind(client.app_type.as_str())
        .bind(&client.client_secret_hash)
        .bind(client.token_endpoint_auth_method.as_str())
        .bind(to_json(&client.callbacks)?)
        .bind(to_json(&client.allowed_logout_urls)?)
        .bind(to_json(&client.web_origins)?)
        .bind(to_json(&client.allowed_origins)?)
        .bind(to_json(&client.grant_types)?)
        .bind(client.id_token_lifetime)
        .bind(to_json(&client.refresh_token)?)
        .bind(client.is_first_party)
        .bind(to_json(&client.client_metadata)?)
        .bind(&client.client_id)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        found(done.rows_affected())
    }

    async fn delete_client(&self, client_id: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM clients WHERE client_id = $1")
            .bind(client_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        found(done.rows_affected())
    }

    async fn all_client_origins(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT web_origins, allowed_origins FROM clients")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let mut origins = Vec::new();
        for row in rows {
            for column in ["web_origins", "allowed_origins"] {
                let list: Vec<String> =
                    from_json(row.try_get::<&str, _>(column).map_err(backend)?)?;
                origins.extend(list);
            }
        }
        Ok(origins)
    }
}

fn grant_from_row(row: &Row) -> Result<ClientGrant, StoreError> {
    Ok(ClientGrant {
        id: row.try_get("id").map_err(backend)?,
        client_id: row.try_get("client_id").map_err(backend)?,
        audience: row.try_get("audience").map_err(backend)?,
        scope: from_json(row.try_get::<&str, _>("scope").map_err(backend)?)?,
    })
}

#[async_trait]
impl ClientGrantRepository for Backend {
    async fn create_client_grant(&self, grant: &ClientGrant) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO client_grants (id, client_id, audience, scope) VALUES ($1, $2, $3, $4)",
        )
        .bind(&grant.id)
        .bind(&grant.client_id)
        .bind(&grant.audience)
        .bind(to_json(&grant.scope)?)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn client_grant_for(
        &self,
        client_id: &str,
        audience: &str,
    ) -> Result<Option<ClientGrant>, StoreError> {
        sqlx::query("SELECT * FROM client_grants WHERE client_id = $1 AND audience = $2")
            .bind(client_id)
            .bind(audience)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(grant_from_row)
            .transpose()
    }

    async fn list_client_grants(&self, page: Page) -> Result<(Vec<ClientGrant>, u64), StoreError> {
        let (limit, offset) = limits(page);
        let rows = sqlx::query("SELECT * FROM client_grants ORDER BY id LIMIT $1 OFFSET $2")
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM client_grants")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        let items = rows.iter().map(grant_from_row).collect::<Result<_, _>>()?;
        Ok((items, total.unsigned_abs()))
    }

    async fn update_client_grant(&self, grant: &ClientGrant) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE client_grants SET scope = $1 WHERE id = $2")
            .bind(to_json(&grant.scope)?)
            .bind(&grant.id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        found(done.rows_affected())
    }

    async fn delete_client_grant(&self, id: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM client_grants WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        found(done.rows_affected())
    }
}
