//! Sensor keys: an Ed25519 key pair per sensor, in standard PEM files that
//! other tools read too (`openssl pkey -in sensor.key -pubout`).
//!
//! - the private key (`sensor.key`): PKCS#8 PEM, created with mode 0600 and
//!   never over an existing key; a key file others can read is refused when
//!   loaded (it would sign for anyone who read it). [`SensorKey`]'s `Debug`
//!   shows only the public half, and no error message quotes the file.
//! - the public key (`sensor.key.pub`, beside it): SubjectPublicKeyInfo PEM.
//!   The log names it as 64 hex digits; [`PublicKey::load`] reads either form.

use crate::{Error, Result};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Bytes of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// A sensor's private key: signs the alert log's heads and closing records.
pub struct SensorKey {
    signing: SigningKey,
}

impl std::fmt::Debug for SensorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret half: keys end up in logs through `{:?}`.
        f.debug_struct("SensorKey")
            .field("public", &self.public().id())
            .finish_non_exhaustive()
    }
}

impl SensorKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<SensorKey> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|e| Error::Random {
            message: e.to_string(),
        })?;
        let key = SensorKey::from_seed(&seed);
        seed.fill(0);
        Ok(key)
    }

    /// The key of a 32-byte seed (tests and benches: a fixed key).
    pub fn from_seed(seed: &[u8; 32]) -> SensorKey {
        SensorKey {
            signing: SigningKey::from_bytes(seed),
        }
    }

    /// Load a private key file written by [`SensorKey::write_pair`] (or any
    /// PKCS#8 PEM Ed25519 key, e.g. `openssl genpkey -algorithm ed25519`).
    pub fn load(path: &Path) -> Result<SensorKey> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if !meta.is_file() {
            return Err(Error::format(
                path,
                "private key",
                "a regular file holding a PEM private key (from rfsentry keygen)",
            ));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::format(
                path,
                "file mode",
                format!(
                    "a private key readable by its owner only (mode 600); it is mode {mode:03o}, so others may have read it and could sign in this sensor's name: chmod 600 {} (or make a new key if it was exposed)",
                    path.display()
                ),
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => Error::format(
                path,
                "private key",
                "a PEM private key (text); the file is not text",
            ),
            _ => Error::io(path, e),
        })?;
        // The error names the file and what was expected, never its content.
        let signing = SigningKey::from_pkcs8_pem(&text).map_err(|_| {
            Error::format(
                path,
                "private key",
                "an Ed25519 private key in PKCS#8 PEM (\"-----BEGIN PRIVATE KEY-----\", as rfsentry keygen writes); pass the private key, not the .pub file",
            )
        })?;
        Ok(SensorKey { signing })
    }

    /// Write this key to `path` (mode 0600, refusing to replace any file
    /// there) and its public key to `path.pub`; returns the public key's path.
    pub fn write_pair(&self, path: &Path) -> Result<PathBuf> {
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(Error::format(
                path,
                "private key",
                "a new file: one exists there already, and replacing a sensor's key would orphan every log it signed; move it away first or choose another --out",
            ));
        }
        // PKCS#8 v1 (the seed alone): what OpenSSL and other tools read.
        let v1 = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.signing.to_bytes(),
            public_key: None,
        };
        let pem = v1.to_pkcs8_pem(LineEnding::LF).map_err(|e| Error::Encode {
            what: "the private key".into(),
            message: e.to_string(),
        })?;
        write_new_private(path, pem.as_bytes())?;
        let public = public_key_path(path);
        crate::atomic_file::write_atomic(&public, self.public().to_pem().as_bytes())?;
        Ok(public)
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key())
    }

    /// Sign `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.signing.sign(message).to_bytes()
    }
}

/// Where `keygen` puts the public key of the private key at `path`: beside
/// it, `.pub` appended (`sensor.key` → `sensor.key.pub`).
pub fn public_key_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

/// Create `path` with mode 0600 from the first byte on, holding `bytes`;
/// never replaces a file (a hard link from a synced temporary file fails if
/// `path` appeared meanwhile), and leaves no temporary file behind.
fn write_new_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let part = crate::atomic_file::part_path(path);
    let _ = std::fs::remove_file(&part); // a leftover of a killed keygen
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&part)
            .map_err(|e| Error::io(&part, e))?;
        f.write_all(bytes).map_err(|e| Error::io(&part, e))?;
        f.sync_all().map_err(|e| Error::io(&part, e))?;
        std::fs::hard_link(&part, path).map_err(|e| Error::io(path, e))
    })();
    let _ = std::fs::remove_file(&part);
    result
}

/// A sensor's public key: checks what its private key signed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.id())
    }
}

impl PublicKey {
    /// Load a public key: a PEM file (`sensor.key.pub`) or a file holding
    /// the 64 hex digits the log names.
    pub fn load(path: &Path) -> Result<PublicKey> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => Error::format(
                path,
                "public key",
                "a PEM public key (text); the file is not text",
            ),
            _ => Error::io(path, e),
        })?;
        let trimmed = text.trim();
        if let Some(key) = PublicKey::from_hex(trimmed) {
            return Ok(key);
        }
        if trimmed.contains("PRIVATE KEY") {
            return Err(Error::format(
                path,
                "public key",
                "a public key; this is a PRIVATE key, which must stay on the sensor: pass its .pub file",
            ));
        }
        VerifyingKey::from_public_key_pem(trimmed)
            .map(PublicKey)
            .map_err(|_| {
                Error::format(
                    path,
                    "public key",
                    "an Ed25519 public key in PEM (\"-----BEGIN PUBLIC KEY-----\", the .pub file rfsentry keygen writes) or as 64 hex digits",
                )
            })
    }

    /// The key from the 64 lowercase hex digits the log names.
    pub fn from_hex(s: &str) -> Option<PublicKey> {
        let bytes: [u8; 32] = super::chain::from_hex(s.as_bytes())?;
        VerifyingKey::from_bytes(&bytes).ok().map(PublicKey)
    }

    /// 64 lowercase hex digits, as the log names the key.
    pub fn to_hex(&self) -> String {
        super::chain::to_hex(self.0.as_bytes())
    }

    /// A short name for people: `ed25519:` and the first 16 hex digits of
    /// the key's SHA-256.
    pub fn id(&self) -> String {
        let digest = super::chain::sha256(self.0.as_bytes());
        format!("ed25519:{}", &super::chain::to_hex(&digest)[..16])
    }

    /// The SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn to_pem(&self) -> String {
        self.0
            .to_public_key_pem(LineEnding::LF)
            .expect("an Ed25519 public key always encodes")
    }

    /// Whether `signature` is this key's over `message` (strict: no
    /// malleable or small-order forms).
    pub fn verifies(&self, message: &[u8], signature: &[u8; SIGNATURE_LEN]) -> bool {
        let sig = ed25519_dalek::Signature::from_bytes(signature);
        self.0.verify_strict(message, &sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_round_trips_through_its_files_and_the_secret_stays_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sensor.key");
        let key = SensorKey::generate().unwrap();
        let public_path = key.write_pair(&path).unwrap();
        assert_eq!(public_path, dir.path().join("sensor.key.pub"));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!crate::atomic_file::part_path(&path).exists());
        let loaded = SensorKey::load(&path).unwrap();
        assert_eq!(loaded.public(), key.public());
        let public = PublicKey::load(&public_path).unwrap();
        assert_eq!(public, key.public());
        let sig = loaded.sign(b"head");
        assert!(public.verifies(b"head", &sig));
        assert!(!public.verifies(b"heae", &sig));
        // Debug shows the public id only.
        let shown = format!("{key:?}");
        assert!(shown.contains(&key.public().id()), "{shown}");
        let secret = std::fs::read_to_string(&path).unwrap();
        let body: String = secret.lines().filter(|l| !l.starts_with("-----")).collect();
        assert!(!shown.contains(&body[..20]));
        // The hex form the log names loads too.
        std::fs::write(dir.path().join("hex"), key.public().to_hex()).unwrap();
        assert_eq!(
            PublicKey::load(&dir.path().join("hex")).unwrap(),
            key.public()
        );
    }

    #[test]
    fn an_existing_key_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sensor.key");
        SensorKey::generate().unwrap().write_pair(&path).unwrap();
        let before = std::fs::read(&path).unwrap();
        let msg = SensorKey::generate()
            .unwrap()
            .write_pair(&path)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("one exists there already"), "{msg}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn a_key_others_can_read_or_a_wrong_file_is_refused_without_quoting_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sensor.key");
        SensorKey::generate().unwrap().write_pair(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let msg = SensorKey::load(&path).unwrap_err().to_string();
        assert!(
            msg.contains("mode 644") && msg.contains("chmod 600"),
            "{msg}"
        );
        let public = dir.path().join("sensor.key.pub");
        std::fs::set_permissions(&public, std::fs::Permissions::from_mode(0o600)).unwrap();
        let msg = SensorKey::load(&public).unwrap_err().to_string();
        assert!(msg.contains("not the .pub file"), "{msg}");
        assert!(!msg.contains("BEGIN PUBLIC KEY-----\n"), "{msg}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let msg = PublicKey::load(&path).unwrap_err().to_string();
        assert!(
            msg.contains("PRIVATE key, which must stay on the sensor"),
            "{msg}"
        );
    }
}
