//! Presets: the permission catalog, built-in roles, plans and API key prefixes of a deployment,
//! read from a TOML file (built-in ones live under `presets/` and are compiled in).
//!
//! Loading refuses anything inconsistent — a role granting an unknown permission, a duplicate key,
//! no owner role — with a message naming the file and line, so a typo stops start-up instead of
//! silently granting or withholding access.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use toml::Spanned;

use super::permission::{Catalog, PermissionSet, Role, MAX_PERMISSIONS};
use super::plan::{Limit, Metric, MetricKind, Plan};
use super::team::{TeamRole, TEAM_MANAGE};

/// The presets compiled into the binary, by name.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("standard", include_str!("../../../../presets/standard.toml")),
    ("hookdeploy", include_str!("../../../../presets/hookdeploy.toml")),
    ("hooklistener", include_str!("../../../../presets/hooklistener.toml")),
    ("yipyap", include_str!("../../../../presets/yipyap.toml")),
    ("hellojohn", include_str!("../../../../presets/hellojohn.toml")),
];

#[derive(Debug, Clone)]
pub struct Preset {
    pub name: String,
    pub catalog: Catalog,
    pub permission_descriptions: BTreeMap<String, String>,
    /// Built-in roles, in the order the preset lists them.
    pub roles: Vec<Role>,
    pub owner_role: String,
    pub default_invite_role: String,
    /// Roles inside a team, in the order the preset lists them.
    pub team_roles: Vec<TeamRole>,
    /// The team role of an invitee joining the teams their invitation names.
    pub default_team_role: String,
    /// When set, ownership may only be transferred to a member holding one of these roles.
    pub transfer_target_roles: Option<Vec<String>>,
    /// The first prefix is the default for new keys.
    pub api_key_prefixes: Vec<String>,
    pub metrics: Vec<Metric>,
    pub plans: Vec<Plan>,
    pub default_plan: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}:{line}: {message}")]
pub struct PresetError {
    pub source_name: String,
    pub line: usize,
    pub message: String,
}

impl Preset {
    /// Loads a built-in preset by name, or a preset file by path (anything containing `/` or
    /// ending in `.toml`).
    pub fn load(name_or_path: &str) -> Result<Self, PresetError> {
        if let Some((_, text)) = BUILT_IN.iter().find(|(name, _)| *name == name_or_path) {
            return Self::from_toml(text, &format!("presets/{name_or_path}.toml"));
        }
        if name_or_path.contains('/') || name_or_path.ends_with(".toml") {
            let text = std::fs::read_to_string(name_or_path).map_err(|e| PresetError {
                source_name: name_or_path.to_owned(),
                line: 0,
                message: format!("cannot read the preset file: {e}"),
            })?;
            return Self::from_toml(&text, name_or_path);
        }
        let known: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
        Err(PresetError {
            source_name: name_or_path.to_owned(),
            line: 0,
            message: format!("no built-in preset has this name (known: {})", known.join(", ")),
        })
    }

    pub fn from_toml(text: &str, source_name: &str) -> Result<Self, PresetError> {
        let fail = |span: Option<std::ops::Range<usize>>, message: String| PresetError {
            source_name: source_name.to_owned(),
            line: span.map_or(0, |s| line_of(text, s.start)),
            message,
        };
        let raw: RawPreset = toml::from_str(text).map_err(|e| fail(e.span(), e.message().to_owned()))?;
        raw.build(&|span, msg| fail(Some(span), msg))
    }

    pub fn role(&self, key: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.key == key)
    }

    pub fn team_role(&self, key: &str) -> Option<&TeamRole> {
        self.team_roles.iter().find(|r| r.key == key)
    }

    pub fn plan(&self, key: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.key == key)
    }

    pub fn owner(&self) -> &Role {
        self.role(&self.owner_role).expect("the loader checks that the owner role exists")
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

type Fail<'a> = &'a dyn Fn(std::ops::Range<usize>, String) -> PresetError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPreset {
    name: String,
    owner_role: Spanned<String>,
    default_invite_role: Spanned<String>,
    default_plan: Spanned<String>,
    transfer_target_roles: Option<Vec<Spanned<String>>>,
    api_key_prefixes: Spanned<Vec<Spanned<String>>>,
    permissions: Spanned<BTreeMap<String, String>>,
    roles: Vec<RawRole>,
    /// Optional: a preset without team roles gets one `member` role granting nothing.
    #[serde(default)]
    team_roles: Vec<RawTeamRole>,
    default_team_role: Option<Spanned<String>>,
    #[serde(default)]
    metrics: Vec<RawMetric>,
    plans: Spanned<Vec<RawPlan>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    key: Spanned<String>,
    name: String,
    permissions: Vec<Spanned<String>>,
    assignable_by: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTeamRole {
    key: Spanned<String>,
    name: String,
    permissions: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    key: Spanned<String>,
    kind: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    key: Spanned<String>,
    name: String,
    members: i64,
    /// Teams per org; unlimited when absent.
    teams: Option<i64>,
    retention_days: u32,
    api_calls_per_minute: u32,
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    limits: BTreeMap<String, Spanned<i64>>,
}

fn limit(value: i64) -> Option<Limit> {
    match value {
        -1 => Some(None),
        n if n >= 0 => Some(Some(n as u64)),
        _ => None,
    }
}

impl RawPreset {
    fn build(self, fail: Fail<'_>) -> Result<Preset, PresetError> {
        let permissions_span = self.permissions.span();
        let descriptions = self.permissions.into_inner();
        if descriptions.len() > MAX_PERMISSIONS {
            return Err(fail(permissions_span, format!("at most {MAX_PERMISSIONS} permissions are supported")));
        }
        if let Some(bad) = descriptions.keys().find(|k| !is_permission_key(k)) {
            return Err(fail(
                permissions_span,
                format!("permission `{bad}` must be lowercase words joined by dots, like `endpoints.create`"),
            ));
        }
        let catalog = Catalog::new(descriptions.keys().cloned().collect());
        let missing = catalog.missing_built_ins();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|p| p.key()).collect();
            return Err(fail(
                permissions_span,
                format!("the catalog must define Tenantry's own permissions; it lacks {}", names.join(", ")),
            ));
        }

        let mut role_keys = HashSet::new();
        for role in &self.roles {
            if !role_keys.insert(role.key.get_ref().as_str()) {
                return Err(fail(role.key.span(), format!("duplicate role key `{}`", role.key.get_ref())));
            }
        }
        let known_role = |key: &Spanned<String>, what: &str| {
            if role_keys.contains(key.get_ref().as_str()) {
                Ok(())
            } else {
                Err(fail(key.span(), format!("{what} `{}` is not a role of this preset", key.get_ref())))
            }
        };
        known_role(&self.owner_role, "owner_role")?;
        known_role(&self.default_invite_role, "default_invite_role")?;
        if self.default_invite_role.get_ref() == self.owner_role.get_ref() {
            return Err(fail(
                self.default_invite_role.span(),
                "default_invite_role may not be the owner role: ownership is only transferred".into(),
            ));
        }
        for key in self.transfer_target_roles.iter().flatten() {
            known_role(key, "transfer_target_roles entry")?;
        }

        let mut roles = Vec::with_capacity(self.roles.len());
        for raw in &self.roles {
            let mut set = PermissionSet::EMPTY;
            for perm in &raw.permissions {
                let bit = catalog.bit(perm.get_ref()).ok_or_else(|| {
                    fail(
                        perm.span(),
                        format!("role `{}` grants unknown permission `{}`", raw.key.get_ref(), perm.get_ref()),
                    )
                })?;
                if set.contains_all(bit) {
                    return Err(fail(
                        perm.span(),
                        format!("role `{}` lists `{}` twice", raw.key.get_ref(), perm.get_ref()),
                    ));
                }
                set = set.union(bit);
            }
            for key in raw.assignable_by.iter().flatten() {
                known_role(key, "assignable_by entry")?;
            }
            roles.push(Role {
                key: raw.key.get_ref().clone(),
                name: raw.name.clone(),
                permissions: set,
                assignable_by: raw.assignable_by.as_ref().map(|v| v.iter().map(|k| k.get_ref().clone()).collect()),
                built_in: true,
            });
        }
        let all = catalog.set_of(catalog.keys().iter().map(String::as_str)).expect("catalog keys are in the catalog");
        let owner = roles.iter().find(|r| &r.key == self.owner_role.get_ref()).expect("checked above");
        if !owner.permissions.contains_all(all) {
            return Err(fail(
                self.owner_role.span(),
                format!(
                    "the owner role `{}` must hold every permission; it lacks {}",
                    owner.key,
                    catalog.names(all.minus(owner.permissions)).join(", ")
                ),
            ));
        }

        let (team_roles, default_team_role) =
            build_team_roles(&catalog, &self.team_roles, self.default_team_role.as_ref(), fail)?;

        let prefixes_span = self.api_key_prefixes.span();
        let prefixes: Vec<String> = self.api_key_prefixes.into_inner().into_iter().map(Spanned::into_inner).collect();
        if prefixes.is_empty() {
            return Err(fail(prefixes_span, "api_key_prefixes needs at least one prefix".into()));
        }
        if let Some(bad) = prefixes.iter().find(|p| !is_key_prefix(p)) {
            return Err(fail(
                prefixes_span,
                format!(
                    "API key prefix `{bad}` must be 2 to 12 lowercase letters, digits or underscores, ending in `_`"
                ),
            ));
        }

        let mut metrics = Vec::new();
        for raw in &self.metrics {
            let kind = match raw.kind.get_ref().as_str() {
                "gauge" => MetricKind::Gauge,
                "monthly_counter" => MetricKind::MonthlyCounter,
                other => {
                    return Err(fail(
                        raw.kind.span(),
                        format!("metric kind `{other}` must be `gauge` or `monthly_counter`"),
                    ))
                }
            };
            if metrics.iter().any(|m: &Metric| &m.key == raw.key.get_ref()) {
                return Err(fail(raw.key.span(), format!("duplicate metric `{}`", raw.key.get_ref())));
            }
            metrics.push(Metric { key: raw.key.get_ref().clone(), kind });
        }

        let plans_span = self.plans.span();
        let mut plans: Vec<Plan> = Vec::new();
        for raw in self.plans.into_inner() {
            if plans.iter().any(|p| &p.key == raw.key.get_ref()) {
                return Err(fail(raw.key.span(), format!("duplicate plan `{}`", raw.key.get_ref())));
            }
            let members = limit(raw.members).ok_or_else(|| {
                fail(raw.key.span(), format!("plan `{}`: members must be -1 or more", raw.key.get_ref()))
            })?;
            let teams = limit(raw.teams.unwrap_or(-1)).ok_or_else(|| {
                fail(raw.key.span(), format!("plan `{}`: teams must be -1 or more", raw.key.get_ref()))
            })?;
            let mut limits = BTreeMap::new();
            for (metric, value) in &raw.limits {
                if !metrics.iter().any(|m| &m.key == metric) {
                    return Err(fail(
                        value.span(),
                        format!("plan `{}` limits unknown metric `{metric}`", raw.key.get_ref()),
                    ));
                }
                let parsed = limit(*value.get_ref())
                    .ok_or_else(|| fail(value.span(), format!("limit of `{metric}` must be -1 or more")))?;
                limits.insert(metric.clone(), parsed);
            }
            if let Some(missing) = metrics.iter().find(|m| !limits.contains_key(&m.key)) {
                return Err(fail(
                    raw.key.span(),
                    format!("plan `{}` sets no limit for metric `{}`", raw.key.get_ref(), missing.key),
                ));
            }
            plans.push(Plan {
                key: raw.key.into_inner(),
                name: raw.name,
                members,
                teams,
                retention_days: raw.retention_days,
                api_calls_per_minute: raw.api_calls_per_minute,
                features: raw.features,
                limits,
            });
        }
        if plans.is_empty() {
            return Err(fail(plans_span, "a preset needs at least one plan".into()));
        }
        if !plans.iter().any(|p| &p.key == self.default_plan.get_ref()) {
            return Err(fail(
                self.default_plan.span(),
                format!("default_plan `{}` is not a plan of this preset", self.default_plan.get_ref()),
            ));
        }

        Ok(Preset {
            name: self.name,
            catalog,
            permission_descriptions: descriptions,
            roles,
            owner_role: self.owner_role.into_inner(),
            default_invite_role: self.default_invite_role.into_inner(),
            team_roles,
            default_team_role,
            transfer_target_roles: self.transfer_target_roles.map(|v| v.into_iter().map(Spanned::into_inner).collect()),
            api_key_prefixes: prefixes,
            metrics,
            plans,
            default_plan: self.default_plan.into_inner(),
        })
    }
}

/// The team roles and the default one. Each permission is one of the catalog's or `team.manage`.
fn build_team_roles(
    catalog: &Catalog,
    raw_roles: &[RawTeamRole],
    default: Option<&Spanned<String>>,
    fail: Fail<'_>,
) -> Result<(Vec<TeamRole>, String), PresetError> {
    if raw_roles.is_empty() {
        if let Some(default) = default {
            return Err(fail(default.span(), "default_team_role names a role, but there are no [[team_roles]]".into()));
        }
        let member = TeamRole {
            key: "member".into(),
            name: "Member".into(),
            permissions: PermissionSet::EMPTY,
            manages_team: false,
        };
        return Ok((vec![member], "member".into()));
    }
    let mut roles: Vec<TeamRole> = Vec::with_capacity(raw_roles.len());
    for raw in raw_roles {
        let key = raw.key.get_ref();
        if roles.iter().any(|r| &r.key == key) {
            return Err(fail(raw.key.span(), format!("duplicate team role key `{key}`")));
        }
        if !is_role_key(key) {
            return Err(fail(
                raw.key.span(),
                format!("team role key `{key}` must be lowercase letters, digits or `_`"),
            ));
        }
        let mut role = TeamRole {
            key: key.clone(),
            name: raw.name.clone(),
            permissions: PermissionSet::EMPTY,
            manages_team: false,
        };
        for perm in &raw.permissions {
            if perm.get_ref() == TEAM_MANAGE {
                role.manages_team = true;
                continue;
            }
            let bit = catalog.bit(perm.get_ref()).ok_or_else(|| {
                fail(perm.span(), format!("team role `{key}` grants unknown permission `{}`", perm.get_ref()))
            })?;
            role.permissions = role.permissions.union(bit);
        }
        roles.push(role);
    }
    let Some(default) = default else {
        return Err(fail(raw_roles[0].key.span(), "a preset with [[team_roles]] needs a default_team_role".into()));
    };
    if !roles.iter().any(|r| &r.key == default.get_ref()) {
        return Err(fail(
            default.span(),
            format!("default_team_role `{}` is not a team role of this preset", default.get_ref()),
        ));
    }
    Ok((roles, default.get_ref().clone()))
}

fn is_role_key(key: &str) -> bool {
    (1..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_permission_key(key: &str) -> bool {
    let mut parts = key.split('.');
    let words_ok = key.split('.').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    parts.next().is_some() && parts.next().is_some() && words_ok
}

fn is_key_prefix(prefix: &str) -> bool {
    (2..=12).contains(&prefix.len())
        && prefix.ends_with('_')
        && prefix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_preset_loads() {
        for (name, _) in BUILT_IN {
            let preset = Preset::load(name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&preset.name, name);
        }
    }

    fn standard_with(from: &str, to: &str) -> String {
        let text = BUILT_IN[0].1;
        assert!(text.contains(from), "fixture text {from:?} not in standard.toml");
        text.replacen(from, to, 1)
    }

    fn line_containing(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.contains(needle)).unwrap() + 1
    }

    #[test]
    fn an_unknown_permission_in_a_role_names_its_line() {
        let text =
            standard_with("\"endpoints.view\", \"requests.replay\"]", "\"endpoints.view\", \"requests.replya\"]");
        let err = Preset::from_toml(&text, "p.toml").unwrap_err();
        assert!(err.message.contains("unknown permission `requests.replya`"), "{err}");
        assert_eq!(err.line, line_containing(&text, "requests.replya"));
    }

    #[test]
    fn a_duplicate_role_key_names_its_line() {
        let text = standard_with("key = \"viewer\"", "key = \"developer\"");
        let err = Preset::from_toml(&text, "p.toml").unwrap_err();
        assert!(err.message.contains("duplicate role key `developer`"), "{err}");
        assert_eq!(
            err.line,
            text.lines().enumerate().filter(|(_, l)| l.contains("key = \"developer\"")).nth(1).unwrap().0 + 1
        );
    }

    #[test]
    fn a_missing_owner_role_is_refused() {
        let text = standard_with("owner_role = \"owner\"", "owner_role = \"boss\"");
        let err = Preset::from_toml(&text, "p.toml").unwrap_err();
        assert!(err.message.contains("owner_role `boss`"), "{err}");
        assert_eq!(err.line, line_containing(&text, "owner_role = \"boss\""));
    }

    #[test]
    fn a_duplicate_permission_key_is_refused_by_the_parser_with_its_line() {
        let text = standard_with("\"org.manage\" =", "\"org.manage\" = \"x\"\n\"org.manage\" =");
        let err = Preset::from_toml(&text, "p.toml").unwrap_err();
        assert!(err.line > 0, "{err}");
        assert!(err.to_string().starts_with("p.toml:"));
    }

    #[test]
    fn a_team_role_granting_an_unknown_permission_names_its_line() {
        let text = standard_with(
            "permissions = [\"team.manage\", \"endpoints.create\"",
            "permissions = [\"team.manage\", \"endpoints.creat\"",
        );
        let err = Preset::from_toml(&text, "p.toml").unwrap_err();
        assert!(err.message.contains("team role `lead` grants unknown permission `endpoints.creat`"), "{err}");
        assert_eq!(err.line, line_containing(&text, "endpoints.creat\""));
    }

    #[test]
    fn a_default_team_role_that_is_not_one_names_its_line() {
        let text = standard_with("default_team_role = \"member\"", "default_team_role = \"captain\"");
        let err = Preset::from_toml(&text, "p.toml").unwrap_err();
        assert!(err.message.contains("default_team_role `captain`"), "{err}");
        assert_eq!(err.line, line_containing(&text, "captain"));
    }

    #[test]
    fn team_roles_hold_team_manage_apart_from_the_catalog() {
        let preset = Preset::load("standard").unwrap();
        let lead = preset.team_role("lead").unwrap();
        assert!(lead.manages_team);
        assert_eq!(preset.catalog.names(lead.permissions).len(), 4);
        assert!(!preset.catalog.contains(TEAM_MANAGE));
        assert!(!preset.team_role("member").unwrap().manages_team);
        assert_eq!(preset.plan("starter").unwrap().teams, Some(3));
        assert_eq!(preset.plan("enterprise").unwrap().teams, None);
    }

    #[test]
    fn a_catalog_without_a_built_in_permission_is_refused_naming_it() {
        let line =
            BUILT_IN[0].1.lines().find(|l| l.starts_with("\"audit.view\"")).expect("standard defines audit.view");
        let text = standard_with(line, "");
        let err = Preset::from_toml(&text, "p.toml").unwrap_err();
        assert!(err.message.contains("lacks audit.view"), "{err}");
    }
}
