//! The permission table of SPEC section 3, transcribed by hand (not read from the preset), so a
//! preset that drifts from the specification fails the tests that use it.

/// The roles of the `standard` preset, in the table's column order.
pub const ROLES: [&str; 5] = ["owner", "admin", "developer", "viewer", "finance"];

const Y: bool = true;
const N: bool = false;

/// Each permission and whether `owner`, `admin`, `developer`, `viewer`, `finance` hold it.
pub const TABLE: [(&str, [bool; 5]); 17] = [
    ("org.manage", [Y, Y, N, N, N]),
    ("org.transfer_ownership", [Y, N, N, N, N]),
    ("members.invite", [Y, Y, N, N, N]),
    ("members.remove", [Y, Y, N, N, N]),
    ("members.change_role", [Y, Y, N, N, N]),
    // SPEC 13: org `teams.manage` (owner, admin).
    ("teams.manage", [Y, Y, N, N, N]),
    ("endpoints.create", [Y, Y, Y, N, N]),
    ("endpoints.edit", [Y, Y, Y, N, N]),
    ("endpoints.delete", [Y, N, N, N, N]),
    ("endpoints.view", [Y, Y, Y, Y, N]),
    ("requests.replay", [Y, Y, Y, Y, N]),
    ("requests.delete", [Y, Y, N, N, N]),
    ("billing.view", [Y, Y, N, N, Y]),
    ("billing.update_payment", [Y, Y, N, N, Y]),
    ("billing.change_plan", [Y, Y, N, N, Y]),
    ("api_keys.manage", [Y, Y, N, N, N]),
    ("audit.view", [Y, Y, N, N, N]),
];

/// Whether the role in column `role` (a key of `ROLES`) holds `permission`, per the SPEC.
pub fn holds(role: &str, permission: &str) -> bool {
    let column = ROLES.iter().position(|r| *r == role).unwrap_or_else(|| panic!("{role} is not a SPEC 3 role"));
    let (_, row) =
        TABLE.iter().find(|(p, _)| *p == permission).unwrap_or_else(|| panic!("{permission} is not in SPEC 3"));
    row[column]
}

/// The permissions of a role, per the SPEC.
pub fn permissions_of(role: &str) -> Vec<&'static str> {
    TABLE.iter().map(|(p, _)| *p).filter(|p| holds(role, p)).collect()
}
