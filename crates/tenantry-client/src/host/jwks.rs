//! The server's token-signing keys, fetched from its JWKS and kept until a token names a key id
//! the cache lacks (the server rotated its key), which fetches them again — at most once every
//! `REFETCH_AFTER`, so a flood of forged key ids cannot turn into a flood of fetches.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::DecodingKey;
use reqwest::Method;

use crate::{Client, ClientError};

const REFETCH_AFTER: Duration = Duration::from_secs(10);

pub(crate) struct Jwks {
    client: Client,
    keys: RwLock<HashMap<String, DecodingKey>>,
    /// When the keys were last fetched; held across a fetch so concurrent misses fetch once.
    fetched_at: tokio::sync::Mutex<Option<Instant>>,
}

impl Jwks {
    pub(crate) fn new(client: Client) -> Self {
        Self { client, keys: RwLock::new(HashMap::new()), fetched_at: tokio::sync::Mutex::new(None) }
    }

    /// The key `kid` names; `Ok(None)` when the server does not have it either.
    pub(crate) async fn key(&self, kid: &str) -> Result<Option<DecodingKey>, ClientError> {
        if let Some(key) = self.cached(kid) {
            return Ok(Some(key));
        }
        let mut fetched_at = self.fetched_at.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(key) = self.cached(kid) {
            return Ok(Some(key));
        }
        if fetched_at.is_some_and(|at| at.elapsed() < REFETCH_AFTER) {
            return Ok(None);
        }
        let set: JwkSet = self.client.call(Method::GET, "/.well-known/jwks.json").answer().await?;
        let keys: HashMap<String, DecodingKey> = set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?)))
            .collect();
        *fetched_at = Some(Instant::now());
        let found = keys.get(kid).cloned();
        *self.keys.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = keys;
        Ok(found)
    }

    fn cached(&self, kid: &str) -> Option<DecodingKey> {
        self.keys.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(kid).cloned()
    }
}
