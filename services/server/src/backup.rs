//! `reserve-server backup` and `restore` for the embedded SQLite database.

use crate::config::{DbArgs, sqlite_file};
use crate::lock::DbLock;
use anyhow::{Context, bail};
use reserve_store::backup::{BackupInfo, inspect_sqlite_file};
use reserve_store::{Backend, Store};
use std::path::{Path, PathBuf};

/// The database file `db` names, or why backup and restore do not apply.
fn database_file(db: &DbArgs, command: &str) -> anyhow::Result<PathBuf> {
    match Backend::of_url(&db.database_url) {
        Some(Backend::Postgres) => bail!(
            "`{command}` is for the embedded SQLite database; on PostgreSQL use pg_dump -Fc / pg_restore \
             or a base backup with WAL archiving (see the README)"
        ),
        None => bail!(
            "--database-url: unsupported database URL '{}': use sqlite://FILE",
            reserve_store::db::redact(&db.database_url)
        ),
        Some(Backend::Sqlite) => sqlite_file(&db.database_url).ok_or_else(|| {
            anyhow::anyhow!(
                "--database-url: `{command}` needs a database file, not an in-memory one"
            )
        }),
    }
}

/// Takes a consistent copy of the live database into `to` while it serves.
/// Refuses an existing `to`; the copy appears there only when complete.
pub async fn backup(db: &DbArgs, to: &Path) -> anyhow::Result<BackupInfo> {
    let file = database_file(db, "backup")?;
    if to.symlink_metadata().is_ok() {
        bail!(
            "--to {}: the file exists; refusing to overwrite it",
            to.display()
        );
    }
    if !file.is_file() {
        bail!("--database-url: there is no database at {}", file.display());
    }
    let _lock = DbLock::shared(&file)?;
    let dir = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // VACUUM INTO a fresh name in the target's directory, then link it into
    // place: a crash never leaves a half-written file under the name asked
    // for, and the link fails rather than replace a file made meanwhile.
    let partial = tempfile::Builder::new()
        .prefix(".reserve-backup-")
        .tempfile_in(&dir)
        .with_context(|| format!("--to {}: cannot write in {}", to.display(), dir.display()))?
        .into_temp_path();
    let partial_path = partial.to_path_buf();
    std::fs::remove_file(&partial_path)
        .with_context(|| format!("preparing {}", partial_path.display()))?;
    // Without mode=rwc, so a mistyped path is not created as an empty database.
    let store = Store::connect(&db.database_url, &db.options())
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let taken = store.backup_into(&partial_path).await;
    store.close().await;
    taken.with_context(|| format!("backing up {}", file.display()))?;
    std::fs::File::open(&partial_path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("flushing {}", partial_path.display()))?;
    let info = inspect_sqlite_file(&partial_path).await?;
    match std::fs::hard_link(&partial_path, to) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!(
                "--to {}: the file exists; refusing to overwrite it",
                to.display()
            )
        }
        Err(e) => return Err(e).with_context(|| format!("--to {}", to.display())),
    }
    sync_dir(&dir)?;
    drop(partial);
    Ok(info)
}

/// Replaces the database with the backup in `from`, once nothing uses it and
/// the backup has proved to be an undamaged database of this service; then
/// opens it (applying any newer migration) and checks the ledger.
pub async fn restore(
    db: &DbArgs,
    from: &Path,
) -> anyhow::Result<(BackupInfo, reserve_store::stock::integrity::IntegrityReport)> {
    let file = database_file(db, "restore")?;
    if !from.is_file() {
        bail!("--from {}: no such file", from.display());
    }
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let lock = DbLock::exclusive(&file)?;
    // Copy first and check the copy: what is checked is what goes in place.
    let mut staged = tempfile::Builder::new()
        .prefix(".reserve-restore-")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let mut source =
        std::fs::File::open(from).with_context(|| format!("--from {}", from.display()))?;
    std::io::copy(&mut source, staged.as_file_mut())
        .with_context(|| format!("copying {} into {}", from.display(), dir.display()))?;
    staged
        .as_file()
        .sync_all()
        .with_context(|| format!("flushing {}", staged.path().display()))?;
    let info = inspect_sqlite_file(staged.path())
        .await
        .with_context(|| format!("--from {}", from.display()))?;
    // A -wal or -shm left by the replaced database (after a crash) would be
    // replayed into the restored one; nothing holds them while we hold the lock.
    for suffix in ["-wal", "-shm"] {
        let mut name = file.as_os_str().to_os_string();
        name.push(suffix);
        match std::fs::remove_file(PathBuf::from(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing the old {suffix} file")),
        }
    }
    staged
        .persist(&file)
        .with_context(|| format!("moving the restored database into {}", file.display()))?;
    sync_dir(&dir)?;
    let url = crate::config::normalize_url(&db.database_url);
    let store = Store::connect(&url, &db.options())
        .await
        .with_context(|| format!("opening the restored {}", file.display()))?;
    let checked = async {
        store.migrate().await?;
        store
            .check_integrity(&reserve_core::depot::DepotPath::from_stored("/".into()))
            .await
    }
    .await;
    store.close().await;
    drop(lock);
    Ok((info, checked?))
}

/// Makes a rename or link in `dir` durable.
fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("flushing the directory {}", dir.display()))
}
