//! Files only their owner may read: the master key, the export document. Both hold what
//! opens the tenant (the key) or its hashes and sealed keys (the document).

use std::{io::Write, path::Path};

/// Writes `text` to a new file at `path`, owner-only from the start; fails when the file
/// exists (two commands starting at once on a new data directory cannot both write a key).
pub fn create(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = options().create_new(true).open(path)?;
    file.write_all(text.as_bytes())
}

/// Writes `text` to `path`, replacing a file that exists; it ends owner-only even when it
/// existed with wider permissions.
pub fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = options().create(true).truncate(true).open(path)?;
    restrict(&file)?;
    file.write_all(text.as_bytes())
}

#[cfg(unix)]
fn options() -> std::fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(0o600);
    options
}

#[cfg(not(unix))]
fn options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    options
}

#[cfg(unix)]
fn restrict(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_file: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}
