//! Media steps run in a child process of the `bulletin` binary.
//!
//! FFmpeg and whisper.cpp are C code fed untrusted input: a segfault, a hang
//! or a runaway allocation in one step must cost that step only. Each step is
//! `bulletin media` reading a [`MediaRequest`] on stdin, with an environment of
//! its own and resource limits it applies to itself (`sandbox`), and a
//! wall-clock timeout enforced here (the child is killed when its future is
//! dropped, e.g. when a lease is lost).

mod admission;
mod child;
mod protocol;
mod runner;
mod sandbox;

pub use admission::{Admission, SlotStats};
pub use child::run_media_child;
pub use protocol::{MediaRequest, TranscodeOutput};
pub use runner::{MediaRunner, StepError};
pub use sandbox::ChildLimits;
