//! Which flag fixes an error: the libraries report precise errors without naming flags,
//! and this maps them to the flag a user of this binary would pass.

use nordlink::KeyError;
use nordlink::clk::{LoadError, SecretKind};
use nordlink_io::IoError;

/// A hint naming the flag that addresses `err`, if one does.
pub(crate) fn for_error(err: &anyhow::Error) -> Option<&'static str> {
    err.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<KeyError>() {
            return key(e);
        }
        if let Some(LoadError::Secret { source, .. }) = cause.downcast_ref::<LoadError>() {
            return key(source);
        }
        if let Some(LoadError::WrongSecret { needs, .. }) = cause.downcast_ref::<LoadError>() {
            return Some(match needs {
                SecretKind::ClkhashSecret => "a clkhash schema takes its secret as --secret FILE",
                _ => "a nordlink schema takes a nordlink key file as --key FILE",
            });
        }
        match cause.downcast_ref::<IoError>() {
            Some(IoError::ColumnType { found, .. }) if found.is_integer() => Some(
                "pass --zero-pad-integers to left-pad integer identifiers to the scheme's length",
            ),
            _ => None,
        }
    })
}

fn key(e: &KeyError) -> Option<&'static str> {
    match e {
        KeyError::Permissions { .. } => Some(
            "on a filesystem without Unix permissions, --insecure-allow-readable-key accepts it",
        ),
        _ => None,
    }
}
