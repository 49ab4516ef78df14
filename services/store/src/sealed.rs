//! Owners' private data, sealed: AES-256-GCM under a key from configuration,
//! one row per owner in `private_data`, the row id bound in as associated
//! data so a ciphertext cannot be moved to another row. A database dump
//! shows only ciphertext; the audit log and stored replies hold only masked
//! values and the row id; a purge deletes the ciphertext and keeps the row.
//!
//! **Keys.** A key file holds one key per line, `KEY-ID BASE64-OF-32-BYTES`
//! (`#` starts a comment). The first key seals new data; every key listed
//! opens data sealed under it. To rotate: put a new key on the first line,
//! restart, run `reserve-server rekey` (it re-seals every row under the
//! first key), then remove the old line.

use crate::db::Store;
use crate::error::StoreError;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use reserve_core::requisition::identity::PrivateOwner;
use reserve_core::time::UtcMillis;
use sqlx::AnyConnection;
use std::sync::Arc;

/// The keys private data is sealed and opened with.
#[derive(Clone)]
pub struct Sealer {
    keys: Arc<Vec<(String, Aes256Gcm)>>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("Sealer").field("key_ids", &ids).finish()
    }
}

/// What can go wrong with a key file; never shows key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("private data key file: {0}")]
pub struct KeyFileError(pub String);

impl Sealer {
    /// Reads a key file's text: `KEY-ID BASE64` per line, the first current.
    pub fn from_key_text(text: &str) -> Result<Sealer, KeyFileError> {
        let mut keys: Vec<(String, Aes256Gcm)> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(id), Some(b64), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(KeyFileError(format!(
                    "line {}: expected `KEY-ID BASE64-KEY`",
                    n + 1
                )));
            };
            if id.len() > 32
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(KeyFileError(format!(
                    "line {}: a key id is 1 to 32 letters, digits, - or _",
                    n + 1
                )));
            }
            let bytes = B64
                .decode(b64)
                .map_err(|_| KeyFileError(format!("line {}: the key is not base64", n + 1)))?;
            let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| {
                KeyFileError(format!("line {}: a key is 32 bytes (256 bits)", n + 1))
            })?;
            if keys.iter().any(|(k, _)| k == id) {
                return Err(KeyFileError(format!(
                    "line {}: key id {id} is listed twice",
                    n + 1
                )));
            }
            keys.push((id.to_string(), cipher));
        }
        if keys.is_empty() {
            return Err(KeyFileError("holds no key".into()));
        }
        Ok(Sealer {
            keys: Arc::new(keys),
        })
    }

    /// A new random key line for a key file.
    pub fn new_key_line(id: &str) -> String {
        let key = Aes256Gcm::generate_key(&mut OsRng);
        format!("{id} {}\n", B64.encode(key.as_slice()))
    }

    /// The id of the key new data is sealed under.
    pub fn current_id(&self) -> &str {
        &self.keys[0].0
    }

    fn seal(&self, row: &str, data: &PrivateOwner) -> Result<(String, String, String), StoreError> {
        let (id, cipher) = &self.keys[0];
        let plain = serde_json::to_vec(data)?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ct = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: &plain,
                    aad: row.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Sealed("sealing failed".into()))?;
        Ok((id.clone(), B64.encode(nonce.as_slice()), B64.encode(ct)))
    }

    fn open(
        &self,
        row: &str,
        key_id: &str,
        nonce: &str,
        ct: &str,
    ) -> Result<PrivateOwner, StoreError> {
        let Some((_, cipher)) = self.keys.iter().find(|(k, _)| k == key_id) else {
            return Err(StoreError::Sealed(format!(
                "private data {row} is sealed under key {key_id}, which is not in the key file"
            )));
        };
        let bad = || StoreError::Sealed(format!("private data {row} does not open"));
        let nonce = B64.decode(nonce).map_err(|_| bad())?;
        let ct = B64.decode(ct).map_err(|_| bad())?;
        if nonce.len() != 12 {
            return Err(bad());
        }
        let plain = cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &ct,
                    aad: row.as_bytes(),
                },
            )
            .map_err(|_| bad())?;
        serde_json::from_slice(&plain).map_err(|_| bad())
    }
}

/// key id, nonce, ciphertext, purged at.
type SealedRow = (Option<String>, Option<String>, Option<String>, Option<i64>);

/// What the sealed table holds for one owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unsealed {
    /// The data, opened.
    Open(PrivateOwner),
    /// Purged after settlement, at that time.
    Purged(UtcMillis),
}

impl Store {
    fn sealer(&self) -> Result<&Sealer, StoreError> {
        self.sealer.as_ref().ok_or_else(|| {
            StoreError::Sealed(
                "no private data key is configured (--private-data-key-file); owners' private data cannot be sealed or read"
                    .into(),
            )
        })
    }

    /// Opens the sealed private data `row` (for finance's replies).
    pub async fn unseal(&self, row: &str) -> Result<Unsealed, StoreError> {
        let mut c = self.reader().acquire().await?;
        let found: Option<SealedRow> = sqlx::query_as(
            "SELECT key_id, nonce, ciphertext, purged_at FROM private_data WHERE id = $1",
        )
        .bind(row)
        .fetch_optional(&mut *c)
        .await?;
        match found {
            None => Err(StoreError::Sealed(format!("private data {row} is missing"))),
            Some((_, _, _, Some(at))) => Ok(Unsealed::Purged(at)),
            Some((Some(k), Some(n), Some(ct), None)) => {
                Ok(Unsealed::Open(self.sealer()?.open(row, &k, &n, &ct)?))
            }
            Some(_) => Err(StoreError::Sealed(format!("private data {row} is damaged"))),
        }
    }

    /// Re-seals every row not under the current key; returns how many.
    pub async fn rekey_private_data(&self) -> Result<u64, StoreError> {
        let sealer = self.sealer()?.clone();
        let mut done = 0u64;
        loop {
            let mut tx = self.begin_write().await?;
            let rows: Vec<(String, String, String, String)> = sqlx::query_as(
                "SELECT id, key_id, nonce, ciphertext FROM private_data \
                 WHERE purged_at IS NULL AND key_id <> $1 ORDER BY id LIMIT 500",
            )
            .bind(sealer.current_id())
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                tx.commit().await?;
                return Ok(done);
            }
            for (id, k, n, ct) in rows {
                let data = sealer.open(&id, &k, &n, &ct)?;
                let (k2, n2, ct2) = sealer.seal(&id, &data)?;
                sqlx::query(
                    "UPDATE private_data SET key_id = $1, nonce = $2, ciphertext = $3 \
                     WHERE id = $4 AND key_id = $5 AND purged_at IS NULL",
                )
                .bind(k2)
                .bind(n2)
                .bind(ct2)
                .bind(&id)
                .bind(&k)
                .execute(&mut *tx)
                .await?;
                done += 1;
            }
            tx.commit().await?;
        }
    }
}

/// Seals `data` into a new row `id` in the caller's transaction.
pub(crate) async fn insert_sealed(
    tx: &mut AnyConnection,
    store_sealer: Option<&Sealer>,
    id: &str,
    data: &PrivateOwner,
    now: UtcMillis,
) -> Result<(), StoreError> {
    let sealer = store_sealer.ok_or_else(|| {
        StoreError::Sealed(
            "no private data key is configured (--private-data-key-file); owners' private data cannot be sealed"
                .into(),
        )
    })?;
    let (k, n, ct) = sealer.seal(id, data)?;
    sqlx::query(
        "INSERT INTO private_data (id, key_id, nonce, ciphertext, created_at, purged_at) \
         VALUES ($1, $2, $3, $4, $5, NULL)",
    )
    .bind(id)
    .bind(k)
    .bind(n)
    .bind(ct)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> PrivateOwner {
        PrivateOwner {
            id_number: "420302198001011232".into(),
            bank_account: "6222020200112233445".into(),
            bank_name: "工行".into(),
            phone: "13812345678".into(),
        }
    }

    #[test]
    fn sealed_data_opens_only_under_its_key_and_its_own_row() {
        let old = Sealer::new_key_line("k1");
        let new = Sealer::new_key_line("k2");
        let s1 = Sealer::from_key_text(&old).unwrap();
        let (k, n, ct) = s1.seal("row-1", &owner()).unwrap();
        assert_eq!(k, "k1");
        assert!(!ct.contains("4203") && !ct.contains("6222"));
        assert_eq!(s1.open("row-1", &k, &n, &ct).unwrap(), owner());
        assert!(
            s1.open("row-2", &k, &n, &ct).is_err(),
            "moved to another row"
        );
        let rotated = Sealer::from_key_text(&format!("{new}{old}")).unwrap();
        assert_eq!(rotated.current_id(), "k2");
        assert_eq!(rotated.open("row-1", &k, &n, &ct).unwrap(), owner());
        let only_new = Sealer::from_key_text(&new).unwrap();
        assert!(only_new.open("row-1", &k, &n, &ct).is_err());
    }

    #[test]
    fn a_bad_key_file_is_refused_without_showing_the_key() {
        assert!(Sealer::from_key_text("").is_err());
        let e = Sealer::from_key_text("k1 c2hvcnQ=").unwrap_err();
        assert!(e.0.contains("32 bytes") && !e.0.contains("c2hvcnQ"), "{e}");
        let line = Sealer::new_key_line("k1");
        assert!(Sealer::from_key_text(&format!("{line}{line}")).is_err());
    }
}
