//! Who is using the embedded database file, told by an advisory lock.
//!
//! Every command that opens a SQLite database (serving, seeding, checking,
//! migrating, taking a backup) holds a shared `flock` on `FILE.lock` beside
//! it for as long as it runs; `restore` needs it exclusively. So a restore
//! can never replace a file under a running server, several readers of one
//! file still coexist, and a crashed process leaves nothing stale behind:
//! the kernel drops its lock with it. The lock file itself is left in place
//! (removing it would let two processes lock two different files).

use anyhow::{Context, bail};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// A held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct DbLock {
    _file: File,
    path: PathBuf,
}

impl DbLock {
    /// The lock file of the database file `db`.
    pub fn path_for(db: &Path) -> PathBuf {
        let mut name = db.as_os_str().to_os_string();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Takes the shared lock of `db`: refused only while a restore holds it.
    pub fn shared(db: &Path) -> anyhow::Result<DbLock> {
        let (file, path) = open(db)?;
        match fs4::FileExt::try_lock_shared(&file) {
            Ok(()) => Ok(DbLock { _file: file, path }),
            Err(fs4::TryLockError::WouldBlock) => bail!(
                "the database {} is being restored (its lock {} is held exclusively); try again when the restore has finished",
                db.display(),
                path.display()
            ),
            Err(fs4::TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
    }

    /// Takes the exclusive lock of `db`: refused while anything else has the
    /// database open through this service.
    pub fn exclusive(db: &Path) -> anyhow::Result<DbLock> {
        let (file, path) = open(db)?;
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => Ok(DbLock { _file: file, path }),
            Err(fs4::TryLockError::WouldBlock) => bail!(
                "the database {} is in use (a server or another reserve-server command holds {}); stop it first",
                db.display(),
                path.display()
            ),
            Err(fs4::TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open(db: &Path) -> anyhow::Result<(File, PathBuf)> {
    let path = DbLock::path_for(db);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening the lock file {}", path.display()))?;
    Ok((file, path))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn readers_share_the_lock_and_a_restore_needs_it_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("r.db");
        let a = DbLock::shared(&db).unwrap();
        let b = DbLock::shared(&db).unwrap();
        let refused = DbLock::exclusive(&db).unwrap_err().to_string();
        assert!(refused.contains("in use"), "{refused}");
        drop((a, b));
        let x = DbLock::exclusive(&db).unwrap();
        assert!(
            DbLock::shared(&db)
                .unwrap_err()
                .to_string()
                .contains("being restored")
        );
        assert_eq!(x.path(), dir.path().join("r.db.lock"));
    }
}
