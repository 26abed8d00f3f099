//! Seeds the benchmark database directly with SQL: building 100,000 memberships or keys through
//! the API would measure argon2 and the write path, not what the scenarios ask. One password hash
//! is shared by every seeded user. The same SQL seeds SQLite and PostgreSQL (through a superuser
//! connection there, which Row Level Security does not restrict).

use serde_json::json;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor, Row};
use tenantry_core::domain::api_key;
use tenantry_core::domain::models::SigningKey;
use tenantry_core::domain::password::{Password, PasswordHasher};
use tenantry_core::domain::secret::hash_token;

pub const SEED_PASSWORD: &str = "bench password 1";
/// Teams seeded in each org (of the first `TEAM_ORGS`), named `team-0` … `team-9`.
pub const TEAMS_PER_ORG: usize = 10;
/// Orgs that get teams: every org of the default dataset; at scale the first 100,000, so the
/// seed stays within minutes (ten million teams would not).
const TEAM_ORGS: usize = 100_000;
/// Rows per multi-row `INSERT` (well under both databases' parameter limits).
const BATCH: usize = 1000;

pub struct Dataset {
    pub orgs: Vec<String>,
    /// (org, user) pairs of members, one per membership.
    pub members: Vec<(String, String)>,
    /// The ids of the teams of org `i` (of the first `TEAM_ORGS`) at `i * TEAMS_PER_ORG ..`.
    pub teams: Vec<String>,
    /// For each of `members`, the index in `teams` of the one team they are in (members of orgs
    /// without teams, and owners, are in none).
    pub member_teams: Vec<Option<usize>>,
    /// Secrets of the seeded API keys (each in one of the orgs).
    pub keys: Vec<String>,
    /// The org with many members, its owner's email, and its membership ids in join order.
    pub big_org: Option<BigOrg>,
}

pub struct BigOrg {
    pub id: String,
    pub owner_email: String,
    pub membership_ids: Vec<String>,
}

pub struct Sizes {
    pub orgs: usize,
    pub memberships: usize,
    pub keys: usize,
    pub big_org_members: usize,
}

/// Inserts `rows` of text values into `table` (plus, in every row, the SQL `constants` — numbers
/// and fixed values), `BATCH` rows per statement, in one transaction: committed per statement,
/// every statement would write out again each index page it touched, and the memberships'
/// indexes are touched all over (millions of rows at scale).
async fn insert(
    pool: &AnyPool,
    table: &str,
    columns: &[&str],
    constants: &[(&str, &str)],
    rows: Vec<Vec<String>>,
) -> anyhow::Result<()> {
    let names: Vec<&str> = columns.iter().copied().chain(constants.iter().map(|(name, _)| *name)).collect();
    let started = std::time::Instant::now();
    let mut tx = pool.begin().await?;
    for chunk in rows.chunks(BATCH) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", names.join(", "));
        let mut n = 0;
        for (i, row) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let slots: Vec<String> = row
                .iter()
                .map(|_| {
                    n += 1;
                    format!("${n}")
                })
                .chain(constants.iter().map(|(_, value)| (*value).to_owned()))
                .collect();
            sql.push_str(&format!("({})", slots.join(", ")));
        }
        let mut query = sqlx::query(&sql);
        for value in chunk.iter().flatten() {
            query = query.bind(value.as_str());
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    println!("  {table}: {} rows in {:.1} s", rows.len(), started.elapsed().as_secs_f64());
    Ok(())
}

pub async fn seed(admin_url: &str, sizes: &Sizes) -> anyhow::Result<Dataset> {
    sqlx::any::install_default_drivers();
    let sqlite = !admin_url.starts_with("postgres");
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .after_connect(move |connection, _| {
            Box::pin(async move {
                if sqlite {
                    // Only the seeding connection: the index pages of millions of rows stay in
                    // memory until each table's commit, and a crash mid-seed loses only a
                    // benchmark database. ANALYZE samples each index rather than reading all of
                    // it, as `PRAGMA optimize` does in production.
                    connection
                        .execute("PRAGMA cache_size = -2000000; PRAGMA synchronous = OFF; PRAGMA analysis_limit = 1000")
                        .await?;
                }
                Ok(())
            })
        })
        .connect(admin_url)
        .await?;
    let hash = PasswordHasher::new(1).hash(&Password::parse(SEED_PASSWORD.into()).unwrap()).await;
    let users = sizes.memberships.max(sizes.orgs).max(sizes.big_org_members);
    let user_ids: Vec<String> = (0..users).map(|_| format!("usr_{}", ulid::Ulid::new())).collect();
    let rows = user_ids
        .iter()
        .enumerate()
        .map(|(i, id)| vec![id.clone(), format!("seed{i}@bench.test"), format!("Seed {i}"), hash.clone()])
        .collect();
    let user_constants = [("status", "'active'"), ("created_at", "0")];
    insert(&pool, "users", &["id", "email", "display_name", "password_hash"], &user_constants, rows).await?;

    let org_ids: Vec<String> = (0..sizes.orgs).map(|_| format!("org_{}", ulid::Ulid::new())).collect();
    let org_rows = |ids: &[String], owners: &[String], prefix: &str| -> Vec<Vec<String>> {
        ids.iter()
            .zip(owners)
            .enumerate()
            .map(|(i, (id, owner))| {
                vec![
                    id.clone(),
                    format!("{prefix}-{i}"),
                    format!("Bench org {i}"),
                    owner.clone(),
                    json!({}).to_string(),
                ]
            })
            .collect()
    };
    let org_columns = ["id", "slug", "name", "owner_id", "metadata"];
    // Enterprise (1,000 calls a minute per key) keeps the key scenario from measuring refusals.
    let org_constants = [("is_personal", "0"), ("plan", "'enterprise'"), ("seat_count", "0"), ("created_at", "0")];
    insert(&pool, "orgs", &org_columns, &org_constants, org_rows(&org_ids, &user_ids, "bench-org")).await?;

    let team_orgs = sizes.orgs.min(TEAM_ORGS);
    let teams: Vec<String> = (0..team_orgs * TEAMS_PER_ORG).map(|_| format!("team_{}", ulid::Ulid::new())).collect();
    let team_rows = teams
        .iter()
        .enumerate()
        .map(|(t, id)| {
            let j = t % TEAMS_PER_ORG;
            vec![id.clone(), org_ids[t / TEAMS_PER_ORG].clone(), format!("team-{j}"), format!("Team {j}")]
        })
        .collect();
    let team_constants = [("description", "''"), ("metadata", "'{}'"), ("created_at", "0")];
    insert(&pool, "teams", &["id", "org_id", "slug", "name"], &team_constants, team_rows).await?;

    let roles = ["admin", "developer", "viewer", "finance"];
    let team_roles = ["lead", "member"];
    let mut members = Vec::with_capacity(sizes.memberships);
    let mut member_teams = Vec::with_capacity(sizes.memberships);
    let mut rows = Vec::with_capacity(sizes.memberships);
    let mut team_member_rows = Vec::new();
    for m in 0..sizes.memberships {
        let org_index = m % sizes.orgs;
        let org = &org_ids[org_index];
        // The first membership of each org is its owner; the rest cycle through the other roles
        // and, in orgs with teams, join one of them (as lead or member, by turns).
        let owner = m < sizes.orgs;
        let role = if owner { "owner" } else { roles[m % roles.len()] };
        let team =
            (!owner && org_index < team_orgs).then(|| org_index * TEAMS_PER_ORG + (m / sizes.orgs) % TEAMS_PER_ORG);
        let team_ids = team.map_or_else(|| "[]".to_owned(), |t| json!([teams[t]]).to_string());
        rows.push(vec![
            format!("mem_{}", ulid::Ulid::new()),
            org.clone(),
            user_ids[m].clone(),
            role.to_owned(),
            team_ids,
        ]);
        if let Some(t) = team {
            let team_role = team_roles[(m / 7) % team_roles.len()];
            team_member_rows.push(vec![org.clone(), teams[t].clone(), user_ids[m].clone(), team_role.to_owned()]);
        }
        members.push((org.clone(), user_ids[m].clone()));
        member_teams.push(team);
    }
    let membership_columns = ["id", "org_id", "user_id", "role", "team_ids"];
    insert(&pool, "memberships", &membership_columns, &[("joined_at", "0")], rows).await?;
    let team_member_columns = ["org_id", "team_id", "user_id", "role"];
    insert(&pool, "team_members", &team_member_columns, &[("joined_at", "0")], team_member_rows).await?;

    let big_org = if sizes.big_org_members > 0 {
        let id = format!("org_{}", ulid::Ulid::new());
        let big = org_rows(std::slice::from_ref(&id), &user_ids[..1], "bench-big");
        insert(&pool, "orgs", &org_columns, &org_constants, big).await?;
        let membership_ids: Vec<String> =
            (0..sizes.big_org_members).map(|_| format!("mem_{}", ulid::Ulid::new())).collect();
        let rows = membership_ids
            .iter()
            .zip(&user_ids)
            .enumerate()
            .map(|(i, (mid, user))| {
                let role = if i == 0 { "owner" } else { roles[i % roles.len()] };
                vec![mid.clone(), id.clone(), user.clone(), role.to_owned()]
            })
            .collect();
        insert(&pool, "memberships", &["id", "org_id", "user_id", "role"], &[("joined_at", "0")], rows).await?;
        Some(BigOrg { id, owner_email: "seed0@bench.test".into(), membership_ids })
    } else {
        None
    };
    let started = std::time::Instant::now();
    sqlx::query("UPDATE orgs SET seat_count = (SELECT COUNT(*) FROM memberships m WHERE m.org_id = orgs.id)")
        .execute(&pool)
        .await?;
    println!("  seat counts: {:.1} s", started.elapsed().as_secs_f64());

    // Keys spread over the orgs.
    let mut keys = Vec::with_capacity(sizes.keys);
    let mut rows = Vec::with_capacity(sizes.keys);
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for k in 0..sizes.keys {
        let secret = api_key::generate("tn_live_", |buf| {
            for b in buf.iter_mut() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *b = state as u8;
            }
        });
        let org = &org_ids[k % sizes.orgs];
        let scopes = json!(["endpoints.*", "requests.replay"]).to_string();
        rows.push(vec![
            format!("key_{}", ulid::Ulid::new()),
            org.clone(),
            format!("bench key {k}"),
            api_key::display_prefix(&secret),
            hash_token(&secret),
            scopes,
            user_ids[k % sizes.orgs].clone(),
        ]);
        keys.push(secret);
    }
    let key_columns = ["id", "org_id", "name", "prefix", "secret_hash", "scopes", "created_by"];
    insert(&pool, "api_keys", &key_columns, &[("created_at", "0")], rows).await?;
    // A bulk-loaded database has no planner statistics (nor, on PostgreSQL, a visibility map for
    // index-only scans); a live one has them, kept by autovacuum. Gather them as it would.
    let statement = if admin_url.starts_with("postgres") { "VACUUM ANALYZE" } else { "ANALYZE" };
    let started = std::time::Instant::now();
    sqlx::query(statement).execute(&pool).await?;
    println!("  {statement}: {:.1} s", started.elapsed().as_secs_f64());
    if admin_url.starts_with("postgres") {
        // The bulk load's pages are written out now rather than by a checkpoint during a
        // measured scenario.
        sqlx::query("CHECKPOINT").execute(&pool).await?;
    }
    pool.close().await;
    Ok(Dataset { orgs: org_ids, members, teams, member_teams, keys, big_org })
}

/// A session for each of `users`, as a password login leaves it (no active org), returning their
/// ids. Signing in through the API costs an argon2 hash a user, which would take the `me`
/// scenario's 200,000 users at scale most of an hour.
pub async fn seed_sessions(admin_url: &str, users: &[String]) -> anyhow::Result<Vec<String>> {
    let pool = AnyPoolOptions::new().max_connections(1).connect(admin_url).await?;
    let ids: Vec<String> = users.iter().map(|_| format!("ses_{}", ulid::Ulid::new())).collect();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis().to_string();
    let rows = ids.iter().zip(users).map(|(id, user)| vec![id.clone(), user.clone()]).collect();
    insert(&pool, "sessions", &["id", "user_id"], &[("created_at", &now), ("amr", "'pwd'")], rows).await?;
    pool.close().await;
    Ok(ids)
}

/// The key the server signs access tokens with (it made it on its first start).
pub async fn signing_key(admin_url: &str) -> anyhow::Result<SigningKey> {
    let pool = AnyPoolOptions::new().max_connections(1).connect(admin_url).await?;
    let row =
        sqlx::query("SELECT kid, pkcs8 FROM signing_keys ORDER BY created_at DESC LIMIT 1").fetch_one(&pool).await?;
    pool.close().await;
    Ok(SigningKey { kid: row.try_get("kid")?, pkcs8: row.try_get("pkcs8")?, created_at: chrono::Utc::now() })
}
