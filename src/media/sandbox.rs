//! What a `bulletin media` child may do. It decodes untrusted bytes with C
//! libraries, so it starts with nothing it does not need: an environment of its
//! own (no database URL, no storage keys), and resource limits it applies to
//! itself before reading its request. A limit that cannot be applied stops the
//! child: running without it is not an option.

use rlimit::Resource;

/// Variables a child gets; every other one of the parent's stays behind.
const PASSED_THROUGH: [&str; 1] = [
    // The test-only fault switch (`crate::faults`): it must reach the child to fire there.
    "BULLETIN_FAULT",
];

/// Open files: stdin/stdout/stderr, the input, the outputs, the model.
const OPEN_FILES: u64 = 64;

/// Limits on one child, given to it on its command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildLimits {
    /// Address space, MiB (0: none).
    pub memory_mb: u64,
    /// Largest file it may write, MiB (0: none).
    pub file_size_mb: u64,
}

impl ChildLimits {
    pub fn args(&self) -> [String; 4] {
        ["--memory-mb".into(), self.memory_mb.to_string(), "--file-size-mb".into(), self.file_size_mb.to_string()]
    }

    /// Apply to the calling process (the child, first thing).
    pub fn apply(&self) -> Result<(), String> {
        let mib = |n: u64| n.saturating_mul(1 << 20);
        let mut limits = vec![(Resource::CORE, 0, "core dumps"), (Resource::NOFILE, OPEN_FILES, "open files")];
        if self.memory_mb > 0 {
            limits.push((Resource::AS, mib(self.memory_mb), "address space"));
        }
        if self.file_size_mb > 0 {
            limits.push((Resource::FSIZE, mib(self.file_size_mb), "file size"));
        }
        for (resource, value, what) in limits {
            resource.set(value, value).map_err(|e| format!("cannot limit {what} to {value}: {e}"))?;
        }
        Ok(())
    }
}

/// The environment a child starts with: only what it needs.
pub fn child_environment(command: &mut tokio::process::Command, parent_pid_env: &str) {
    command.env_clear();
    // glibc reserves 64 MiB of address space per thread arena; cap the arenas so
    // the address-space limit measures real use.
    command.env("MALLOC_ARENA_MAX", "2");
    command.env(parent_pid_env, std::process::id().to_string());
    for name in PASSED_THROUGH {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
}
