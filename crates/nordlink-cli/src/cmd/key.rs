//! `nordlink key generate`.

use std::path::Path;

use anyhow::Context as _;
use nordlink::SecretKey;
use nordlink::keyfile::{PermissionCheck, read_key_file, write_key_file};

use crate::flags::{KeyArgs, KeyGenerateArgs};

pub(super) fn generate(args: &KeyGenerateArgs) -> anyhow::Result<()> {
    let key = SecretKey::generate()?;
    write_key_file(&args.out, &key, &now_rfc3339(), args.force)
        .with_context(|| args.out.display().to_string())?;
    eprintln!("nordlink key generate: wrote {} (key id {})", args.out.display(), key.id());
    Ok(())
}

/// Loads the key named on the command line, enforcing permissions unless told not to.
pub(super) fn load(args: &KeyArgs) -> anyhow::Result<SecretKey> {
    let check = permission_check(args.insecure_allow_readable_key, &args.key);
    let file = read_key_file(&args.key, check).with_context(|| args.key.display().to_string())?;
    Ok(file.key)
}

/// The permission check the flags ask for; warns loudly when it is switched off.
pub(super) fn permission_check(insecure: bool, path: &Path) -> PermissionCheck {
    if insecure {
        eprintln!(
            "nordlink: WARNING: --insecure-allow-readable-key: not checking who can read {}",
            path.display()
        );
        PermissionCheck::InsecureAllowReadable
    } else {
        PermissionCheck::Enforce
    }
}

/// The current time as `YYYY-MM-DDTHH:MM:SSZ`.
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let date = nordlink::Date::from_unix_days(secs / 86_400);
    let s = secs % 86_400;
    format!("{date}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}
