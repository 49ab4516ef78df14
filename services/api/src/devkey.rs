//! The development signing key: created on first start beside the SQLite
//! database, readable only by its owner, and shared with `reservectl token`.

use anyhow::{Context, bail};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// File name of the development key.
pub const FILE_NAME: &str = "reserve-dev.key";

/// Reads the key at `path`, creating it (mode 0600) if it does not exist.
pub fn load_or_create(path: &Path) -> anyhow::Result<Vec<u8>> {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut f) => {
            let bytes: [u8; 32] = rand::random();
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            f.write_all(hex.as_bytes())
                .and_then(|_| f.write_all(b"\n"))
                .with_context(|| format!("writing development key {}", path.display()))?;
            tracing::warn!(
                path = %path.display(),
                "created a development signing key; mint tokens for it with `reservectl token` on this machine. \
                 Configure a real key before serving anyone else"
            );
            Ok(hex.into_bytes())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path),
        Err(e) => Err(e).with_context(|| format!("creating development key {}", path.display())),
    }
}

/// Reads an existing development key, refusing one others can read.
pub fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("reading development key {}", path.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        bail!(
            "development key {} is readable by other users; run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
    let s = std::fs::read_to_string(path)
        .with_context(|| format!("reading development key {}", path.display()))?;
    let s = s.trim();
    if s.len() < 32 {
        bail!(
            "development key {} is too short; delete it to get a new one",
            path.display()
        );
    }
    tracing::info!(path = %path.display(), "using the development signing key");
    Ok(s.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_created_once_private_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE_NAME);
        let a = load_or_create(&p).unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let b = load_or_create(&p).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(read(&p).is_err());
    }
}
