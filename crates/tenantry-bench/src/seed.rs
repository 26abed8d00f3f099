//! Seeds the benchmark database directly with SQL: building 100,000 memberships through the API
//! would measure argon2, not Tenantry. One password hash is shared by every seeded user.

use serde_json::json;
use sqlx::SqlitePool;
use tenantry_core::domain::password::{Password, PasswordHasher};

pub const SEED_PASSWORD: &str = "bench password 1";

pub struct Dataset {
    pub orgs: Vec<String>,
    /// (org, user) pairs of members, one per membership.
    pub members: Vec<(String, String)>,
}

pub async fn seed(db_url: &str, orgs: usize, memberships: usize) -> anyhow::Result<Dataset> {
    let pool = SqlitePool::connect(db_url).await?;
    let hash = PasswordHasher::new(1).hash(&Password::parse(SEED_PASSWORD.into()).unwrap()).await;
    let roles = ["admin", "developer", "viewer", "finance"];
    let mut tx = pool.begin().await?;
    let mut org_ids = Vec::with_capacity(orgs);
    let mut members = Vec::with_capacity(memberships);
    let users = memberships.max(orgs);
    let mut user_ids = Vec::with_capacity(users);
    for i in 0..users {
        let id = format!("usr_{}", ulid::Ulid::new());
        sqlx::query("INSERT INTO users (id, email, display_name, password_hash, status, created_at) VALUES (?, ?, ?, ?, 'active', 0)")
            .bind(&id)
            .bind(format!("seed{i}@bench.test"))
            .bind(format!("Seed {i}"))
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        user_ids.push(id);
    }
    for (i, owner) in user_ids.iter().take(orgs).enumerate() {
        let id = format!("org_{}", ulid::Ulid::new());
        sqlx::query(
            "INSERT INTO orgs (id, slug, name, owner_id, is_personal, plan, metadata, seat_count, created_at) VALUES (?, ?, ?, ?, 0, 'team', ?, 0, 0)",
        )
        .bind(&id)
        .bind(format!("bench-org-{i}"))
        .bind(format!("Bench org {i}"))
        .bind(owner)
        .bind(json!({}).to_string())
        .execute(&mut *tx)
        .await?;
        org_ids.push(id);
    }
    for m in 0..memberships {
        let org = &org_ids[m % orgs];
        // The first membership of each org is its owner; the rest cycle through the other roles.
        let (user, role) = if m < orgs { (&user_ids[m], "owner") } else { (&user_ids[m], roles[m % roles.len()]) };
        sqlx::query("INSERT INTO memberships (id, org_id, user_id, role, joined_at) VALUES (?, ?, ?, ?, 0)")
            .bind(format!("mem_{}", ulid::Ulid::new()))
            .bind(org)
            .bind(user)
            .bind(role)
            .execute(&mut *tx)
            .await?;
        members.push((org.clone(), user.clone()));
    }
    sqlx::query("UPDATE orgs SET seat_count = (SELECT COUNT(*) FROM memberships m WHERE m.org_id = orgs.id)")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    pool.close().await;
    Ok(Dataset { orgs: org_ids, members })
}
