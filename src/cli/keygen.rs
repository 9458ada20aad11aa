//! `rfsentry keygen`: make a sensor's Ed25519 key pair — the private key
//! (mode 0600, never over an existing file) and its `.pub` beside it. (The
//! profiles `learn` writes are signed with it by `rfsentry_core::run::learn`.)

use crate::custody::SensorKey;
use crate::Result;
use clap::Args;
use std::path::PathBuf;

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
