//! `nordlink key generate`.

use std::path::Path;

use anyhow::{Context as _, bail};
use nordlink::SecretKey;
use nordlink::keyfile::{KeyPurpose, PermissionCheck, read_key_file, write_key_file};

use crate::flags::{KeyArgs, KeyGenerateArgs, Purpose};

pub(super) fn generate(args: &KeyGenerateArgs) -> anyhow::Result<()> {
    let key = SecretKey::generate()?;
    let purpose = match args.purpose {
        Purpose::Pseudonymise => KeyPurpose::Pseudonymise,
        Purpose::Encode => KeyPurpose::Encode,
    };
    // The key file's temporary file is the core crate's, outside the signal handler's
    // registry: a signal waits for the write (a few hundred bytes) to end instead.
    nordlink_io::uninterrupted(|| {
        write_key_file(&args.out, &key, (&now_rfc3339(), purpose), args.force)
    })
    .with_context(|| args.out.display().to_string())?;
    say!(
        "nordlink key generate: wrote {} ({purpose} key, key id {})",
        args.out.display(),
        key.id()
    );
    Ok(())
}

/// Loads the pseudonymisation key named on the command line, enforcing permissions unless
/// told not to; refuses an encoding key.
pub(super) fn load_for_pseudonymising(args: &KeyArgs) -> anyhow::Result<SecretKey> {
    let check = permission_check(args.insecure_allow_readable_key, &args.key);
    let file = read_key_file(&args.key, check).with_context(|| args.key.display().to_string())?;
    match file.purpose {
        Some(KeyPurpose::Pseudonymise) => {}
        Some(_) => bail!(
            "{}: this key was made for encoding (`purpose: encode`), and encoding keys are \
             shared with the other register holders of a project: pseudonyms made with it \
             could be recomputed by all of them. Make a pseudonymisation key with `nordlink \
             key generate --purpose pseudonymise`",
            args.key.display()
        ),
        None => say!(
            "nordlink: note: {} is a nordlink-key/1 file, which states no purpose; make \
             pseudonymisation keys with `nordlink key generate --purpose pseudonymise` and \
             never use one key both to pseudonymise and to encode",
            args.key.display()
        ),
    }
    Ok(file.key)
}

/// The permission check the flags ask for; warns loudly when it is switched off.
pub(super) fn permission_check(insecure: bool, path: &Path) -> PermissionCheck {
    if insecure {
        say!(
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
