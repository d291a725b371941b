//! The master key: 32 bytes that key the client-secret hashes and seal the private signing
//! keys. From `PORTCULLIS_MASTER_KEY` (base64), or generated once into the data directory
//! with owner-only permissions. PostgreSQL requires the variable.

use std::path::Path;

use anyhow::{bail, Context};
use base64::{engine::general_purpose::STANDARD, Engine};

use crate::store::StoreLocation;

const FILE_NAME: &str = "master.key";

/// The variable that gives the key.
const VARIABLE: &str = "PORTCULLIS_MASTER_KEY";

/// The key for the store at `location`: from the environment, else from (or newly into) the
/// data directory.
pub fn load(location: &StoreLocation) -> anyhow::Result<Vec<u8>> {
    match std::env::var(VARIABLE) {
        Ok(text) if !text.is_empty() => decode(&text),
        // Replicas share the database, so they must share the key too: a key generated into
        // one machine's data directory would not open what another replica sealed.
        _ if location.uses_postgres() => bail!(
            "{VARIABLE} is required with a PostgreSQL database: set it to the same \
             32 random bytes (base64) on every replica and for the CLI \
             (for example: openssl rand -base64 32)"
        ),
        _ => load_or_create(&location.data_dir),
    }
}

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
fn load_or_create(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
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
    crate::private_file::create(&path, &text)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_32_bytes_of_base64() {
        assert_eq!(
            decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap(),
            (0u8..32).collect::<Vec<_>>()
        );
        assert!(decode("AAEC").is_err());
        assert!(decode("not base64!").is_err());
    }

    #[test]
    fn a_generated_key_is_kept_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        assert_eq!(first.len(), 32);
        assert_eq!(load_or_create(dir.path()).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
