//! Permissions and roles.
//!
//! The catalog is the preset's ordered list of permission keys; a [`PermissionSet`] is a bit set
//! over that order, so "does role R hold P" and "is set A within set B" are single instructions on
//! the authorization hot path.

use std::collections::HashMap;

/// At most this many permissions fit a catalog (one bit each in a `u128`).
pub const MAX_PERMISSIONS: usize = 128;

/// The permissions Tenantry's own rules check. Every preset's catalog must define each of them
/// (the preset loader refuses one that does not, naming it), so a check names a permission by
/// this type and a typo is a compile error rather than a refusal at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    OrgManage,
    OrgTransferOwnership,
    MembersInvite,
    MembersRemove,
    MembersChangeRole,
    /// Create, edit and delete any team of the org and manage any team's members.
    TeamsManage,
    ApiKeysManage,
    BillingView,
    BillingChangePlan,
    BillingUpdatePayment,
    AuditView,
}

impl Permission {
    pub const ALL: [Permission; 11] = [
        Self::OrgManage,
        Self::OrgTransferOwnership,
        Self::MembersInvite,
        Self::MembersRemove,
        Self::MembersChangeRole,
        Self::TeamsManage,
        Self::ApiKeysManage,
        Self::BillingView,
        Self::BillingChangePlan,
        Self::BillingUpdatePayment,
        Self::AuditView,
    ];

    /// The permission's key in the catalog.
    pub const fn key(self) -> &'static str {
        match self {
            Self::OrgManage => "org.manage",
            Self::OrgTransferOwnership => "org.transfer_ownership",
            Self::MembersInvite => "members.invite",
            Self::MembersRemove => "members.remove",
            Self::MembersChangeRole => "members.change_role",
            Self::TeamsManage => "teams.manage",
            Self::ApiKeysManage => "api_keys.manage",
            Self::BillingView => "billing.view",
            Self::BillingChangePlan => "billing.change_plan",
            Self::BillingUpdatePayment => "billing.update_payment",
            Self::AuditView => "audit.view",
        }
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

#[derive(Debug, Clone)]
pub struct Catalog {
    keys: Vec<String>,
    index: HashMap<String, u8>,
    /// The bit of each [`Permission`], in the order of `Permission::ALL`; `None` only in a catalog
    /// the preset loader would refuse.
    built_in: [Option<PermissionSet>; Permission::ALL.len()],
}

impl Catalog {
    /// Builds a catalog; callers (preset loading) have already refused duplicates and overflow.
    pub fn new(keys: Vec<String>) -> Self {
        assert!(keys.len() <= MAX_PERMISSIONS, "catalog overflow is refused by the preset loader");
        let index: HashMap<String, u8> = keys.iter().enumerate().map(|(i, k)| (k.clone(), i as u8)).collect();
        let built_in = Permission::ALL.map(|p| index.get(p.key()).map(|&i| PermissionSet(1u128 << i)));
        Self { keys, index, built_in }
    }

    /// The built-in permissions this catalog lacks (a preset must define all of them).
    pub fn missing_built_ins(&self) -> Vec<Permission> {
        Permission::ALL.into_iter().filter(|p| self.of(*p).is_none()).collect()
    }

    /// The bit of a built-in permission; `None` only for a catalog the preset loader refuses.
    pub fn of(&self, permission: Permission) -> Option<PermissionSet> {
        let position = Permission::ALL.iter().position(|p| *p == permission).expect("ALL lists every permission");
        self.built_in[position]
    }

    /// Whether `set` holds the built-in `permission` (never, if the catalog lacked it).
    pub fn grants(&self, set: PermissionSet, permission: Permission) -> bool {
        self.of(permission).is_some_and(|bit| set.contains_all(bit))
    }

    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    pub fn contains(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    pub fn bit(&self, key: &str) -> Option<PermissionSet> {
        self.index.get(key).map(|&i| PermissionSet(1u128 << i))
    }

    /// The set named by `keys`; `Err` carries the first key not in the catalog.
    pub fn set_of<'a>(&self, keys: impl IntoIterator<Item = &'a str>) -> Result<PermissionSet, &'a str> {
        keys.into_iter().try_fold(PermissionSet::EMPTY, |acc, key| self.bit(key).map(|bit| acc.union(bit)).ok_or(key))
    }

    /// The keys of `set`, in catalog order.
    pub fn names(&self, set: PermissionSet) -> Vec<String> {
        self.keys.iter().enumerate().filter(|(i, _)| set.0 & (1u128 << i) != 0).map(|(_, k)| k.clone()).collect()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PermissionSet(u128);

impl PermissionSet {
    pub const EMPTY: Self = Self(0);

    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub fn contains_all(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// The permissions of `self` missing from `holder`.
    pub fn minus(self, holder: Self) -> Self {
        Self(self.0 & !holder.0)
    }

    /// The permissions in both sets.
    pub fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn bits(self) -> u128 {
        self.0
    }

    pub fn from_bits(bits: u128) -> Self {
        Self(bits)
    }
}

/// A role: built in (from the preset) or custom (per org).
#[derive(Debug, Clone)]
pub struct Role {
    pub key: String,
    pub name: String,
    pub permissions: PermissionSet,
    /// When set, only holders of one of these roles may grant this role (on top of the
    /// no-escalation rule that applies to every grant).
    pub assignable_by: Option<Vec<String>>,
    pub built_in: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::new(vec!["a.read".into(), "a.write".into(), "b.read".into()])
    }

    #[test]
    fn sets_compare_by_inclusion() {
        let c = catalog();
        let reader = c.set_of(["a.read"]).unwrap();
        let writer = c.set_of(["a.read", "a.write"]).unwrap();
        assert!(writer.contains_all(reader));
        assert!(!reader.contains_all(writer));
        assert_eq!(c.names(writer.minus(reader)), vec!["a.write".to_string()]);
    }

    #[test]
    fn built_in_permissions_are_found_by_type() {
        let c = Catalog::new(Permission::ALL.iter().map(|p| p.key().to_owned()).collect());
        assert!(c.missing_built_ins().is_empty());
        let manage = c.set_of(["org.manage"]).unwrap();
        assert!(c.grants(manage, Permission::OrgManage));
        assert!(!c.grants(manage, Permission::AuditView));
        assert_eq!(catalog().missing_built_ins().len(), Permission::ALL.len());
        assert!(!catalog().grants(catalog().set_of(["a.read"]).unwrap(), Permission::OrgManage));
    }

    #[test]
    fn unknown_keys_are_named() {
        assert_eq!(catalog().set_of(["a.read", "nope"]), Err("nope"));
    }
}
