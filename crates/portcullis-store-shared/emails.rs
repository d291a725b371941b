// Shared by both backends: `crates/portcullis-store-sqlite/src/emails.rs` and
// `crates/portcullis-store-postgres/src/emails.rs` include this file with the aliases `Row`
// (the backend's row type) and `Backend` (its store) in scope. Placeholders are `$N`, which
// PostgreSQL and SQLite both read, so one text of SQL serves both.
//
// Email templates and the outbox. Statuses are stored as their spelling (`EmailStatus`);
// the literals 'queued', 'sent' and 'failed' below are those spellings.
//
// It calls none of the backends' lock hooks. Claiming is one conditional UPDATE whose WHERE
// repeats the subquery's conditions: on SQLite the statement runs under the one write lock;
// on PostgreSQL a second claimer that meets a row the first has just leased waits for its
// lock, re-checks the conditions on the new row (its lease is now live) and skips it, so a
// message is never leased to two senders at once.

use async_trait::async_trait;
use portcullis_store::{
    Email, EmailFilter, EmailLease, EmailOutcome, EmailRepository, EmailTemplate, Page,
    StoreError,
};
use portcullis_types::EmailKind;
use sqlx::Row as _;

use crate::{backend, clients::found, limits, rows::parse_stored};

fn template_from_row(row: &Row) -> Result<EmailTemplate, StoreError> {
    Ok(EmailTemplate {
        template: parse_stored(row.try_get("template").map_err(backend)?)?,
        subject: row.try_get("subject").map_err(backend)?,
        body: row.try_get("body").map_err(backend)?,
        text: row.try_get("text_body").map_err(backend)?,
        from: row.try_get("from_address").map_err(backend)?,
        enabled: row.try_get("enabled").map_err(backend)?,
        result_url: row.try_get("result_url").map_err(backend)?,
        url_lifetime_in_seconds: row.try_get("url_lifetime_in_seconds").map_err(backend)?,
        include_email_in_redirect: row.try_get("include_email_in_redirect").map_err(backend)?,
        updated_at: row.try_get("updated_at").map_err(backend)?,
    })
}

fn email_from_row(row: &Row) -> Result<Email, StoreError> {
    Ok(Email {
        id: row.try_get("id").map_err(backend)?,
        kind: parse_stored(row.try_get("kind").map_err(backend)?)?,
        recipient: row.try_get("recipient").map_err(backend)?,
        user_id: row.try_get("user_id").map_err(backend)?,
        client_id: row.try_get("client_id").map_err(backend)?,
        sender: row.try_get("sender").map_err(backend)?,
        subject: row.try_get("subject").map_err(backend)?,
        html: row.try_get("html").map_err(backend)?,
        text: row.try_get("text_body").map_err(backend)?,
        link: row.try_get("link").map_err(backend)?,
        status: parse_stored(row.try_get("status").map_err(backend)?)?,
        attempts: row.try_get("attempts").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
        updated_at: row.try_get("updated_at").map_err(backend)?,
        next_attempt_at: row.try_get("next_attempt_at").map_err(backend)?,
        lease_until: row.try_get("lease_until").map_err(backend)?,
        sent_at: row.try_get("sent_at").map_err(backend)?,
        last_error: row.try_get("last_error").map_err(backend)?,
    })
}

/// The INSERT of a template; `upsert` replaces an existing customisation.
fn insert_template(upsert: bool) -> String {
    let conflict = if upsert {
        " ON CONFLICT (template) DO UPDATE SET
            subject = excluded.subject, body = excluded.body, text_body = excluded.text_body,
            from_address = excluded.from_address, enabled = excluded.enabled,
            result_url = excluded.result_url,
            url_lifetime_in_seconds = excluded.url_lifetime_in_seconds,
            include_email_in_redirect = excluded.include_email_in_redirect,
            updated_at = excluded.updated_at"
    } else {
        ""
    };
    format!(
        "INSERT INTO email_templates (template, subject, body, text_body, from_address, enabled,
           result_url, url_lifetime_in_seconds, include_email_in_redirect, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10){conflict}"
    )
}

/// The WHERE clause of a listing: every filter is bound, absent ones as NULL.
const EMAIL_FILTER: &str = "($1 IS NULL OR status = $1)
    AND ($2 IS NULL OR LOWER(recipient) = LOWER($2))
    AND ($3 IS NULL OR user_id = $3)";

/// What makes a queued message claimable at `$3`: due, and held by no live lease.
const CLAIMABLE: &str =
    "status = 'queued' AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)";

impl Backend {
    async fn write_template(
        &self,
        template: &EmailTemplate,
        upsert: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(&insert_template(upsert))
            .bind(template.template.as_str())
            .bind(&template.subject)
            .bind(&template.body)
            .bind(&template.text)
            .bind(&template.from)
            .bind(template.enabled)
            .bind(&template.result_url)
            .bind(template.url_lifetime_in_seconds)
            .bind(template.include_email_in_redirect)
            .bind(template.updated_at)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl EmailRepository for Backend {
    async fn email_template(&self, kind: EmailKind) -> Result<Option<EmailTemplate>, StoreError> {
        sqlx::query("SELECT * FROM email_templates WHERE template = $1")
            .bind(kind.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(template_from_row)
            .transpose()
    }

    async fn put_email_template(&self, template: &EmailTemplate) -> Result<(), StoreError> {
        self.write_template(template, true).await
    }

    async fn create_email_template(&self, template: &EmailTemplate) -> Result<(), StoreError> {
        self.write_template(template, false).await
    }

    async fn delete_email_template(&self, kind: EmailKind) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM email_templates WHERE template = $1")
            .bind(kind.as_str())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        found(done.rows_affected())
    }

    async fn enqueue_email(&self, email: &Email) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO emails (id, kind, recipient, user_id, client_id, sender, subject, html,
               text_body, link, status, attempts, created_at, updated_at, next_attempt_at,
               lease_token, lease_until, sent_at, last_error)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, NULL,
               $16, $17, $18)",
        )
        .bind(&email.id)
        .bind(email.kind.as_str())
        .bind(&email.recipient)
        .bind(&email.user_id)
        .bind(&email.client_id)
        .bind(&email.sender)
        .bind(&email.subject)
        .bind(&email.html)
        .bind(&email.text)
        .bind(&email.link)
        .bind(email.status.as_str())
        .bind(email.attempts)
        .bind(email.created_at)
        .bind(email.updated_at)
        .bind(email.next_attempt_at)
        .bind(email.lease_until)
        .bind(email.sent_at)
        .bind(&email.last_error)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn email_by_id(&self, id: &str) -> Result<Option<Email>, StoreError> {
        sqlx::query("SELECT * FROM emails WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(email_from_row)
            .transpose()
    }

    async fn list_emails(
        &self,
        filter: &EmailFilter,
        page: Page,
    ) -> Result<(Vec<Email>, u64), StoreError> {
        let (limit, offset) = limits(page);
        let status = filter.status.map(|status| status.as_str());
        let rows = sqlx::query(&format!(
            "SELECT * FROM emails WHERE {EMAIL_FILTER}
             ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5"
        ))
        .bind(status)
        .bind(&filter.recipient)
        .bind(&filter.user_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM emails WHERE {EMAIL_FILTER}"))
                .bind(status)
                .bind(&filter.recipient)
                .bind(&filter.user_id)
                .fetch_one(&self.pool)
                .await
                .map_err(backend)?;
        let items = rows.iter().map(email_from_row).collect::<Result<_, _>>()?;
        Ok((items, total.unsigned_abs()))
    }

    async fn claim_emails(
        &self,
        lease: &EmailLease,
        now: i64,
        limit: u32,
    ) -> Result<Vec<Email>, StoreError> {
        let rows = sqlx::query(&format!(
            "UPDATE emails SET lease_token = $1, lease_until = $2, attempts = attempts + 1,
               updated_at = $3
             WHERE id IN (SELECT id FROM emails WHERE {CLAIMABLE}
                          ORDER BY next_attempt_at, id LIMIT $4)
               AND {CLAIMABLE}
             RETURNING *"
        ))
        .bind(&lease.token)
        .bind(lease.until)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let mut claimed = rows.iter().map(email_from_row).collect::<Result<Vec<_>, _>>()?;
        claimed.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
        Ok(claimed)
    }

    async fn finish_email(
        &self,
        id: &str,
        lease_token: &str,
        outcome: &EmailOutcome,
    ) -> Result<bool, StoreError> {
        // Each statement: $1 the id, $2 the lease token, $3 the time, then its own values.
        macro_rules! finishing {
            ($set:literal) => {
                concat!(
                    "UPDATE emails SET ",
                    $set,
                    ", lease_token = NULL, lease_until = NULL, updated_at = $3
                     WHERE id = $1 AND lease_token = $2 AND status = 'queued'"
                )
            };
        }
        let query = match outcome {
            EmailOutcome::Sent { at } => {
                sqlx::query(finishing!("status = 'sent', sent_at = $3, last_error = NULL"))
                    .bind(id)
                    .bind(lease_token)
                    .bind(*at)
            }
            EmailOutcome::Retry {
                at,
                next_attempt_at,
                error,
            } => sqlx::query(finishing!("next_attempt_at = $4, last_error = $5"))
                .bind(id)
                .bind(lease_token)
                .bind(*at)
                .bind(*next_attempt_at)
                .bind(error.as_str()),
            EmailOutcome::Failed { at, error } => {
                sqlx::query(finishing!("status = 'failed', last_error = $4"))
                    .bind(id)
                    .bind(lease_token)
                    .bind(*at)
                    .bind(error.as_str())
            }
        };
        let done = query.execute(&self.pool).await.map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }
}
