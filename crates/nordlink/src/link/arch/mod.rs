//! The AND-popcount kernels, one module per instruction set (memchr's layout): portable
//! code in `scalar`, and per-ISA code that only [`Kernel`](super::Kernel) calls after
//! checking at run time that the CPU has the instructions.

pub(super) mod scalar;
#[cfg(target_arch = "x86_64")]
pub(super) mod x86_64;
