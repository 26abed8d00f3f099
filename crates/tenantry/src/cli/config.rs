//! The client's stored login: where it lives, its format, and how it is written.
//!
//! One file, `credentials.toml`, in `$TENANTRY_CONFIG_DIR`, else `$XDG_CONFIG_HOME/tenantry`, else
//! `~/.config/tenantry`. It holds secrets (a refresh token or an API key), so the directory is
//! created 0700 and the file written 0600, atomically (a temporary file renamed over it).
//! Refreshing rotates the refresh token, so two commands refreshing at once would present the
//! same token twice and end the session; `credentials.lock` serialises them.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{CliError, Result};

const FILE: &str = "credentials.toml";
const LOCK: &str = "credentials.lock";
/// The org that was active when the user last logged out of a server, so the next login there
/// resumes it.
const LAST_ORG: &str = "last-org.toml";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// The server these credentials belong to (no trailing slash).
    pub server: String,
    /// An org's API key, when logged in with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// The org commands act on unless `--org` names another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<ActiveOrg>,
    /// A user's session, when logged in with email and password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserSession>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveOrg {
    pub id: String,
    pub slug: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct LastOrg {
    server: String,
    org: ActiveOrg,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSession {
    pub id: String,
    pub email: String,
    pub access_token: String,
    /// Unix seconds, by this machine's clock.
    pub access_expires_at: i64,
    pub refresh_token: String,
}

impl UserSession {
    /// Refreshed a little early so a token does not expire on its way to the server.
    pub fn needs_refresh(&self, now: i64) -> bool {
        now + 30 >= self.access_expires_at
    }
}

pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn locate() -> Result<Self> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let dir = var("TENANTRY_CONFIG_DIR")
            .or_else(|| var("XDG_CONFIG_HOME").map(|d| d.join("tenantry")))
            .or_else(|| var("HOME").map(|d| d.join(".config").join("tenantry")))
            .or_else(|| var("APPDATA").map(|d| d.join("tenantry")))
            .ok_or_else(|| {
                CliError::local(
                    "cannot find a configuration directory: set HOME, XDG_CONFIG_HOME or TENANTRY_CONFIG_DIR",
                )
            })?;
        Ok(Self { dir })
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    pub fn load(&self) -> Result<Option<Credentials>> {
        let path = self.path();
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CliError::local(format!("cannot read {}: {e}", path.display()))),
        };
        toml::from_str(&text).map(Some).map_err(|e| {
            CliError::local(format!("{} is damaged ({}); delete it and log in again", path.display(), e.message()))
        })
    }

    pub fn save(&self, credentials: &Credentials) -> Result<()> {
        self.ensure_dir()?;
        let path = self.path();
        let text =
            toml::to_string(credentials).map_err(|e| CliError::local(format!("cannot encode credentials: {e}")))?;
        let temp = self.dir.join(format!("{FILE}.{}.tmp", std::process::id()));
        let written = write_private(&temp, text.as_bytes()).and_then(|()| fs::rename(&temp, &path));
        written.map_err(|e| {
            let _ = fs::remove_file(&temp);
            CliError::local(format!("cannot write {}: {e}", path.display()))
        })
    }

    /// Forgets the login; `false` when there was none.
    pub fn remove(&self) -> Result<bool> {
        let path = self.path();
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(CliError::local(format!("cannot remove {}: {e}", path.display()))),
        }
    }

    /// Remembers `org` as the one active on `server` at logout.
    pub fn remember_org(&self, server: &str, org: &ActiveOrg) -> Result<()> {
        self.ensure_dir()?;
        let path = self.dir.join(LAST_ORG);
        let text = toml::to_string(&LastOrg { server: server.to_owned(), org: org.clone() })
            .map_err(|e| CliError::local(format!("cannot encode the active org: {e}")))?;
        fs::write(&path, text).map_err(|e| CliError::local(format!("cannot write {}: {e}", path.display())))
    }

    /// The org active at the last logout from `server`, if any (a damaged file counts as none).
    pub fn remembered_org(&self, server: &str) -> Option<ActiveOrg> {
        let text = fs::read_to_string(self.dir.join(LAST_ORG)).ok()?;
        let last: LastOrg = toml::from_str(&text).ok()?;
        (last.server == server).then_some(last.org)
    }

    /// Blocks until no other `tenantry` process holds the lock; released when the file drops.
    pub fn lock(&self) -> Result<File> {
        self.ensure_dir()?;
        let path = self.dir.join(LOCK);
        let cannot = |e: std::io::Error| CliError::local(format!("cannot lock {}: {e}", path.display()));
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(cannot)?;
        fs4::FileExt::lock(&file).map_err(cannot)?;
        Ok(file)
    }

    fn ensure_dir(&self) -> Result<()> {
        let cannot = |e: std::io::Error| CliError::local(format!("cannot create {}: {e}", self.dir.display()));
        if let Some(parent) = self.dir.parent() {
            fs::create_dir_all(parent).map_err(cannot)?;
        }
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&self.dir).map_err(cannot)?;
        // An existing directory may have been created more open than ours would be.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700)).map_err(cannot)?;
        }
        Ok(())
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.create(true).truncate(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    // The mode above applies only to a new file; a leftover one keeps its own.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}
