//! Instance-wide searches over orgs and users, and account status.

use async_trait::async_trait;
use tenantry_core::domain::ids::UserId;
use tenantry_core::domain::models::{Org, User, UserStatus};
use tenantry_core::domain::pagination::PageRequest;
use tenantry_core::store::{AdminRead, AdminTx, CacheChange, MaybeStale, Stale, StoreResult};

use super::{after, SqlTx};
use crate::db_err;
use crate::rows;

/// A lowercase `LIKE` pattern matching `query` anywhere, with its wildcards taken literally.
pub(super) fn contains_pattern(query: Option<&str>) -> String {
    let mut pattern = String::from("%");
    for c in query.unwrap_or_default().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[async_trait]
impl AdminRead for SqlTx {
    async fn search_orgs(&mut self, query: Option<&str>, page: &PageRequest) -> StoreResult<Vec<Org>> {
        // Case-insensitive on both databases (the pattern is lowercased too). Without a query the
        // pattern is `%%`, which matches all.
        let sql = format!(
            "SELECT {} FROM orgs o WHERE o.id > $1 AND (LOWER(o.slug) LIKE $2 ESCAPE '\\' OR LOWER(o.name) LIKE $2 ESCAPE '\\') \
             ORDER BY o.id LIMIT $3",
            rows::ORG_COLUMNS
        );
        self.all_orgs(true).await?;
        let found = sqlx::query(&sql)
            .bind(after(page))
            .bind(contains_pattern(query))
            .bind(i64::from(page.fetch_limit()))
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        self.all_orgs(false).await?;
        found.iter().map(rows::org).collect()
    }

    async fn search_users(&mut self, query: Option<&str>, page: &PageRequest) -> StoreResult<Vec<User>> {
        let sql = format!(
            "SELECT {} FROM users WHERE id > $1 AND (email LIKE $2 ESCAPE '\\' OR LOWER(display_name) LIKE $2 ESCAPE '\\') \
             ORDER BY id LIMIT $3",
            rows::USER_COLUMNS
        );
        let found = sqlx::query(&sql)
            .bind(after(page))
            .bind(contains_pattern(query))
            .bind(i64::from(page.fetch_limit()))
            .fetch_all(self.conn())
            .await
            .map_err(db_err)?;
        found.iter().map(rows::user).collect()
    }
}

#[async_trait]
impl AdminTx for SqlTx {
    async fn set_user_status(&mut self, user: UserId, status: UserStatus) -> StoreResult<MaybeStale> {
        let done = sqlx::query("UPDATE users SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(user.to_string())
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        Ok((done.rows_affected() == 1).then(|| Stale::new(CacheChange::UserStatus { user })).into())
    }
}
