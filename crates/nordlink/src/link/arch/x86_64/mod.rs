//! x86-64 kernels. Each function is `unsafe` only because it needs CPU features that
//! the caller must have checked (`Kernel::detect`); memory access stays in bounds by
//! construction, as each SAFETY comment explains.
#![allow(unsafe_code)]

pub(in crate::link) mod avx2;
pub(in crate::link) mod avx512;
pub(in crate::link) mod popcnt;
