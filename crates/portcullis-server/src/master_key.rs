//! The master key: 32 bytes that key the client-secret hashes. From `PORTCULLIS_MASTER_KEY`
//! (base64), or generated once into the data directory with owner-only permissions.

use std::path::Path;

use anyhow::{bail, Context};
use base64::{engine::general_purpose::STANDARD, Engine};

const FILE_NAME: &str = "master.key";

/// Decodes a base64 master key; it must be 32 bytes.
pub fn decode(text: &str) -> anyhow::Result<Vec<u8>> {
    let bytes = STANDARD
        .decode(text.trim())
        .context("the master key is not valid base64")?;
    if bytes.len() != 32 {
        bail!("the master key must be 32 bytes (it is {})", bytes.len());
    }
    Ok(bytes)
}

/// Reads the key from the data directory, creating it when absent.
pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join(FILE_NAME);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return decode(&text);
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(portcullis_core::secrets::random_token(32))
        .context("generating the master key")?;
    let text = STANDARD.encode(&bytes);
    write_private(&path, &text).with_context(|| format!("writing {}", path.display()))?;
    Ok(bytes)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}
