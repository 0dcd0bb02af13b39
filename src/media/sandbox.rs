//! What a `bulletin media` child may do. It decodes untrusted bytes with C
//! libraries, so it starts with nothing it does not need: an environment of its
//! own (no database URL, no storage keys), and resource limits it applies to
//! itself before reading its request. A limit that cannot be applied stops the
//! child: running without it is not an option.
//!
//! Once it knows its paths, it confines itself ([`confine`]): an empty network
//! namespace where the kernel lets it make one, Landlock (Linux 5.13+; TCP
//! rules from 6.7) allowing reads only of its input and model and writes only
//! in its output folder, and no TCP at all; then a seccomp filter: no sockets
//! of any kind, no new processes (threads only), no exec. Where the kernel cannot enforce a
//! part, the child says so on stderr and goes on, unless the operator asked for
//! the sandbox to be required (`--require-sandbox`), in which case it stops.

use std::path::{Path, PathBuf};

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
    /// Stop rather than run where the kernel cannot enforce the whole sandbox.
    pub require_sandbox: bool,
}

impl ChildLimits {
    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            "--memory-mb".into(),
            self.memory_mb.to_string(),
            "--file-size-mb".into(),
            self.file_size_mb.to_string(),
        ];
        if self.require_sandbox {
            args.push("--require-sandbox".into());
        }
        args
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

/// How much of the sandbox the kernel enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Confinement {
    /// In a network namespace of its own, with no interface up.
    pub network_namespace: bool,
    /// Landlock enforced every file and TCP rule asked for.
    pub landlock_fully: bool,
}

/// Confine the calling thread (and what it starts) to reading `readable` and
/// writing beneath `writable`, with no TCP and, where possible, no network at all.
pub fn confine(readable: &[&Path], writable: &[&Path]) -> Result<Confinement, String> {
    use landlock::{
        path_beneath_rules, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus,
        Scope, ABI,
    };
    use nix::sched::{unshare, CloneFlags};
    // As root a new network namespace is allowed outright; otherwise inside a new
    // user namespace, where the kernel permits unprivileged ones.
    let network_namespace = unshare(CloneFlags::CLONE_NEWNET).is_ok()
        || unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNET).is_ok();
    let abi = ABI::V6;
    // What any process needs to read: its own /proc entry, the CPU count, /dev/null.
    // (`/proc/self` resolves now, to this process's own entry and no other's.)
    let own: Vec<PathBuf> = ["/proc/self", "/sys/devices/system/cpu", "/dev/null", "/dev/urandom"]
        .iter()
        .map(PathBuf::from)
        .filter(|p| p.exists())
        .map(|p| p.canonicalize().unwrap_or(p))
        .collect();
    let mut reads: Vec<&Path> = readable.to_vec();
    reads.extend(own.iter().map(PathBuf::as_path));
    // Handling every TCP access and adding no TCP rule denies them all.
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.handle_access(AccessNet::from_all(abi)))
        .and_then(|r| r.scope(Scope::from_all(abi)))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(path_beneath_rules(reads, AccessFs::from_read(abi))))
        .and_then(|r| r.add_rules(path_beneath_rules(writable, AccessFs::from_all(abi))))
        .and_then(|r| r.restrict_self())
        .map_err(|e| format!("cannot confine the media process: {e}"))?;
    deny_processes_and_sockets()?;
    Ok(Confinement { network_namespace, landlock_fully: status.ruleset == RulesetStatus::FullyEnforced })
}

/// A seccomp filter on the calling thread and what it starts: `socket`, `exec`
/// and any `clone` that is not a thread fail with EPERM; `clone3` (whose flags a
/// filter cannot read) fails with ENOSYS, so the C library falls back to `clone`
/// for threads. A decoder that takes over the process can then neither reach a
/// network nor start a shell, and cannot fork around the other limits.
fn deny_processes_and_sockets() -> Result<(), String> {
    use std::collections::BTreeMap;

    use seccompiler::{
        apply_filter, BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
        SeccompRule, TargetArch,
    };
    let failed = |e: seccompiler::BackendError| format!("cannot build the seccomp filter: {e}");
    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(failed)?;
    let not_a_thread =
        SeccompCondition::new(0, SeccompCmpArgLen::Qword, SeccompCmpOp::MaskedEq(libc::CLONE_THREAD as u64), 0)
            .and_then(|condition| SeccompRule::new(vec![condition]))
            .map_err(failed)?;
    // An empty list of rules matches every call.
    let mut denied: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for call in [libc::SYS_socket, libc::SYS_socketpair, libc::SYS_execve, libc::SYS_execveat] {
        denied.insert(call, Vec::new());
    }
    #[cfg(target_arch = "x86_64")]
    for call in [libc::SYS_fork, libc::SYS_vfork] {
        denied.insert(call, Vec::new());
    }
    denied.insert(libc::SYS_clone, vec![not_a_thread]);
    let eperm = SeccompFilter::new(denied, SeccompAction::Allow, SeccompAction::Errno(libc::EPERM as u32), arch)
        .map_err(failed)?;
    let clone3 = BTreeMap::from([(libc::SYS_clone3, Vec::new())]);
    let enosys = SeccompFilter::new(clone3, SeccompAction::Allow, SeccompAction::Errno(libc::ENOSYS as u32), arch)
        .map_err(failed)?;
    for filter in [eperm, enosys] {
        let program = BpfProgram::try_from(filter).map_err(|e| format!("cannot compile the seccomp filter: {e}"))?;
        apply_filter(&program).map_err(|e| format!("cannot apply the seccomp filter: {e}"))?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Confine a thread of its own (Landlock and namespaces apply per thread) and
    /// try what an exploited decoder would.
    #[test]
    fn a_confined_thread_reads_its_own_files_only_and_has_no_tcp() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("input.mp4");
        let out = dir.path().join("out");
        let secret = dir.path().join("bulletin.db");
        std::fs::write(&input, b"video").unwrap();
        std::fs::create_dir(&out).unwrap();
        std::fs::write(&secret, b"database").unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let outcome = std::thread::spawn(move || {
            let confinement = confine(&[input.as_path()], &[out.as_path()]).unwrap();
            if !confinement.landlock_fully {
                return Err("this kernel cannot enforce Landlock's file and TCP rules".to_string());
            }
            assert_eq!(std::fs::read(&input).unwrap(), b"video");
            std::fs::write(out.join("video.mp4"), b"encoded").unwrap();
            let denied =
                |r: std::io::Result<Vec<u8>>| r.is_err_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied);
            assert!(denied(std::fs::read(&secret)), "read a file outside its paths");
            assert!(denied(std::fs::read("/etc/passwd")), "read a system file");
            assert!(std::fs::write(dir.path().join("elsewhere"), b"x").is_err(), "wrote outside its folder");
            assert!(std::net::TcpStream::connect(address).is_err(), "opened a TCP connection");
            assert!(std::net::UdpSocket::bind("127.0.0.1:0").is_err(), "opened a UDP socket");
            assert!(std::process::Command::new("/bin/true").status().is_err(), "started a process");
            // Threads still start (whisper and the codecs use them).
            assert_eq!(std::thread::spawn(|| 6 * 7).join().unwrap(), 42);
            Ok(confinement)
        })
        .join()
        .unwrap();
        match outcome {
            Ok(confinement) => eprintln!("confined: {confinement:?}"),
            // Said, not hidden: the README lists which kernels enforce what.
            Err(reason) => eprintln!("skipped: {reason}"),
        }
    }
}
