//! API keys: their textual format, scopes and stored record.
//!
//! A key reads `{prefix}{random}{checksum}`: a prefix from the preset (`tn_live_`, `hklst_` …),
//! 32 base62 characters of randomness (190 bits) and a 6-character base62 CRC32 of everything
//! before it. The checksum lets a mistyped or made-up key be refused before any lookup; the
//! randomness is what makes a key unguessable. Only the SHA-256 of a key is stored.

use chrono::{DateTime, Utc};

use super::ids::{ApiKeyId, OrgId};
use super::permission::{Catalog, PermissionSet};

/// Characters of randomness in a key: 32 × log2(62) ≈ 190 bits, above the 160-bit floor.
pub const RANDOM_CHARS: usize = 32;
pub const CHECKSUM_CHARS: usize = 6;
/// How much of a key lists show, so people can tell their keys apart.
pub const DISPLAY_PREFIX_CHARS: usize = 12;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn checksum(body: &str) -> String {
    let mut value = crc32fast::hash(body.as_bytes()) as u64;
    let mut out = [b'0'; CHECKSUM_CHARS];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(out.to_vec()).expect("base62 is ASCII")
}

/// Builds a key from `prefix` and random bytes, drawing base62 characters from `random` by
/// rejection sampling (bytes ≥ 248 are skipped so every character is equally likely).
/// Requests a node admitted for a key in one minute's window, to add to the count all nodes share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateCount {
    pub key_id: ApiKeyId,
    pub org_id: OrgId,
    /// Minutes since the Unix epoch.
    pub minute: i64,
    pub added: u32,
}

pub fn generate(prefix: &str, mut random: impl FnMut(&mut [u8])) -> String {
    let mut key = String::with_capacity(prefix.len() + RANDOM_CHARS + CHECKSUM_CHARS);
    key.push_str(prefix);
    let mut drawn = 0;
    let mut buf = [0u8; 64];
    while drawn < RANDOM_CHARS {
        random(&mut buf);
        for byte in buf.iter().copied().filter(|b| *b < 248) {
            if drawn == RANDOM_CHARS {
                break;
            }
            key.push(BASE62[(byte % 62) as usize] as char);
            drawn += 1;
        }
    }
    let sum = checksum(&key);
    key.push_str(&sum);
    key
}

/// Whether `key` is well formed for one of `prefixes`: known prefix, exact length, base62 body
/// and a matching checksum. No database is needed to refuse a key that fails this.
pub fn is_well_formed(key: &str, prefixes: &[String]) -> bool {
    let Some(prefix) = prefixes.iter().filter(|p| key.starts_with(p.as_str())).max_by_key(|p| p.len()) else {
        return false;
    };
    let rest = &key[prefix.len()..];
    if rest.len() != RANDOM_CHARS + CHECKSUM_CHARS || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (body, sum) = key.split_at(key.len() - CHECKSUM_CHARS);
    checksum(body) == sum
}

/// The part of a key lists show.
pub fn display_prefix(key: &str) -> String {
    key.chars().take(DISPLAY_PREFIX_CHARS).collect()
}

/// Why a scope list is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeError {
    Empty,
    /// The scope at this index names no permission of the catalog.
    Unknown(usize),
}

/// Resolves scopes — catalog permissions, or `resource.*` or a bare `resource` (every permission
/// of that resource) — to the set they grant.
pub fn resolve_scopes(catalog: &Catalog, scopes: &[String]) -> Result<PermissionSet, ScopeError> {
    if scopes.is_empty() {
        return Err(ScopeError::Empty);
    }
    scopes.iter().enumerate().try_fold(PermissionSet::EMPTY, |set, (i, scope)| {
        let granted = scope_set(catalog, scope);
        if granted.is_empty() {
            Err(ScopeError::Unknown(i))
        } else {
            Ok(set.union(granted))
        }
    })
}

/// What one scope grants; empty when it names nothing in the catalog.
///
/// A bare resource name (`monitors`) means `monitors.*`: YipYap documents its key scopes that way,
/// and a name without a dot can never be a permission of its own resource.
pub fn scope_set(catalog: &Catalog, scope: &str) -> PermissionSet {
    if let Some(bit) = catalog.bit(scope) {
        return bit;
    }
    let resource = match scope.strip_suffix(".*") {
        Some(resource) => resource,
        None if !scope.contains('.') => scope,
        None => return PermissionSet::EMPTY,
    };
    if resource.is_empty() || resource.contains('*') {
        return PermissionSet::EMPTY;
    }
    let members = catalog
        .keys()
        .iter()
        .filter(|k| k.strip_prefix(resource).is_some_and(|rest| rest.starts_with('.')))
        .map(String::as_str);
    catalog.set_of(members).expect("catalog keys are in the catalog")
}

/// An API key as stored (never with its secret).
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub org_id: OrgId,
    pub name: String,
    /// The first characters of the secret, for people to recognise it.
    pub prefix: String,
    /// The scopes as given at creation (permission keys, `resource.*` or a bare `resource`).
    pub scopes: Vec<String>,
    /// Who created it: a user id or, for keys made with a key, that key's id.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The key this one replaced by rolling.
    pub rolled_from: Option<ApiKeyId>,
}

impl ApiKey {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }

    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn prefixes() -> Vec<String> {
        vec!["tn_live_".into(), "tn_test_".into()]
    }

    fn key_from(seed: u64) -> String {
        let mut state = seed;
        generate("tn_live_", |buf| {
            for b in buf.iter_mut() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                *b = (state >> 33) as u8;
            }
        })
    }

    #[test]
    fn a_generated_key_is_well_formed_and_shaped_as_specified() {
        let key = key_from(1);
        assert!(key.starts_with("tn_live_"));
        assert_eq!(key.len(), 8 + RANDOM_CHARS + CHECKSUM_CHARS);
        assert!(is_well_formed(&key, &prefixes()));
        assert_eq!(display_prefix(&key).len(), 12);
        assert!(!is_well_formed(&key, &["hklst_".to_string()]), "another deployment's prefix");
    }

    #[test]
    fn garbage_is_not_well_formed() {
        for bad in ["", "tn_live_", "tn_live_short", "eyJhbGciOi.x.y", "tn_live_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"]
        {
            assert!(!is_well_formed(bad, &prefixes()), "{bad}");
        }
    }

    proptest! {
        /// Any single-character change — substitution anywhere, including in the prefix and the
        /// checksum — is caught by the format check alone.
        #[test]
        fn any_single_character_change_is_caught(seed in any::<u64>(), position in 0usize..46, replacement in any::<char>()) {
            let key = key_from(seed);
            let mut chars: Vec<char> = key.chars().collect();
            let position = position % chars.len();
            prop_assume!(chars[position] != replacement);
            chars[position] = replacement;
            let changed: String = chars.into_iter().collect();
            prop_assert!(!is_well_formed(&changed, &prefixes()), "{key} -> {changed}");
        }

        #[test]
        fn a_dropped_or_added_character_is_caught(seed in any::<u64>(), position in 0usize..46) {
            let key = key_from(seed);
            let mut dropped = key.clone();
            dropped.remove(position % key.len());
            prop_assert!(!is_well_formed(&dropped, &prefixes()));
            let mut added = key.clone();
            added.insert(position % key.len(), 'a');
            prop_assert!(!is_well_formed(&added, &prefixes()));
        }
    }

    #[test]
    fn scopes_are_permissions_or_whole_resources() {
        let catalog = Catalog::new(vec!["endpoints.view".into(), "endpoints.edit".into(), "billing.view".into()]);
        let set = resolve_scopes(&catalog, &["endpoints.*".into()]).unwrap();
        assert_eq!(catalog.names(set), ["endpoints.view", "endpoints.edit"]);
        let set = resolve_scopes(&catalog, &["billing.view".into()]).unwrap();
        assert_eq!(catalog.names(set), ["billing.view"]);
        assert_eq!(resolve_scopes(&catalog, &[]), Err(ScopeError::Empty));
        assert_eq!(resolve_scopes(&catalog, &["endpoints.view".into(), "nope.*".into()]), Err(ScopeError::Unknown(1)));
        assert_eq!(
            resolve_scopes(&catalog, &["endpoint.*".into()]),
            Err(ScopeError::Unknown(0)),
            "prefix must be a whole resource"
        );
        assert_eq!(resolve_scopes(&catalog, &["*".into()]), Err(ScopeError::Unknown(0)));
    }

    #[test]
    fn a_bare_resource_name_means_all_of_it() {
        let catalog = Catalog::new(vec!["monitors.view".into(), "monitors.edit".into(), "alerts.view".into()]);
        let set = resolve_scopes(&catalog, &["monitors".into()]).unwrap();
        assert_eq!(catalog.names(set), ["monitors.view", "monitors.edit"]);
        assert_eq!(resolve_scopes(&catalog, &["monitor".into()]), Err(ScopeError::Unknown(0)), "a whole resource");
        assert_eq!(resolve_scopes(&catalog, &["incidents".into()]), Err(ScopeError::Unknown(0)));
        assert_eq!(resolve_scopes(&catalog, &["monitors.".into()]), Err(ScopeError::Unknown(0)));
        assert_eq!(resolve_scopes(&catalog, &["".into()]), Err(ScopeError::Unknown(0)));
    }
}
