//! `rfsentry keygen`: make a sensor's Ed25519 key pair — the private key
//! (mode 0600, never over an existing file) and its `.pub` beside it — and
//! sign profiles `learn` writes with it.

use super::common::KeyArgs;
use crate::custody::SensorKey;
use crate::profile::Profile;
use crate::Result;
use clap::Args;
use std::path::{Path, PathBuf};

/// Make a key pair.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the private key; the public key goes beside it as FILE.pub.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

pub fn run(args: &KeygenArgs) -> Result<()> {
    let key = SensorKey::generate()?;
    let public = key.write_pair(&args.out)?;
    println!(
        "private key: {} (mode 600; keep it on the sensor only, readable by the account that runs rfsentry)",
        args.out.display()
    );
    println!(
        "public key:  {} (give it to whoever verifies this sensor's logs: rfsentry verify OUTDIR --pubkey {})",
        public.display(),
        public.display()
    );
    println!("key id:      {}", key.public().id());
    Ok(())
}

/// Sign the profile just written at `path` when a key is given (`--key`, or
/// the profile's `[custody]` key): `path.sig` beside it.
pub fn sign_profile(key: &KeyArgs, profile: &Profile, path: &Path) -> Result<()> {
    let sig = crate::custody::detached::signature_path(path);
    match key.load(Some((profile, path)))? {
        Some(key) => {
            let written = crate::custody::detached::sign_file(&key, path)?;
            println!(
                "signature: {} (key {}; check it with rfsentry verify {})",
                written.display(),
                key.public().id(),
                path.display()
            );
        }
        None if sig.exists() => eprintln!(
            "rfsentry: {} no longer matches the profile it signed (learn again with --key to sign it)",
            sig.display()
        ),
        None => {}
    }
    Ok(())
}
