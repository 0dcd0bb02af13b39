//! Admission control for media processes. Every `bulletin media` child (a probe
//! or early look at an upload, a transcode, a transcription) takes a slot first,
//! so a burst of uploads cannot start more decoders than the host can hold.
//! Background jobs wait for a slot as long as it takes; a person's upload waits
//! briefly in a short queue and is otherwise told to come back (503).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a child may wait for a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Background work (a job): until a slot frees up.
    Patient,
    /// Someone is waiting on the answer: at most this long, and only when fewer
    /// than the queue's length are waiting already.
    Briefly(Duration),
    /// Optional work (an early look at an upload still arriving): a free slot or nothing.
    IfFree,
}

/// No slot: the host is busy with other media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("every media slot is taken")]
pub struct Busy;

/// Slot use, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlotStats {
    pub slots: usize,
    pub in_use: usize,
    /// Children of uploads waiting for a slot now.
    pub waiting: usize,
    /// Children that never got a slot (the queue was full, or the wait ran out).
    pub refused: u64,
}

#[derive(Debug, Clone)]
pub struct Admission {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    slots: Arc<Semaphore>,
    total: usize,
    queue: usize,
    waiting: AtomicUsize,
    refused: AtomicU64,
}

impl Admission {
    /// `slots` children at once; up to `queue` brief waiters behind them (a
    /// waiting request costs a task and its file on disk, not a decoder's memory).
    pub fn new(slots: usize, queue: usize) -> Admission {
        let slots = slots.max(1);
        Admission {
            inner: Arc::new(Inner {
                slots: Arc::new(Semaphore::new(slots)),
                total: slots,
                queue,
                waiting: AtomicUsize::new(0),
                refused: AtomicU64::new(0),
            }),
        }
    }

    /// A slot, held until the permit is dropped (when the child has exited).
    pub async fn enter(&self, wait: Wait) -> Result<OwnedSemaphorePermit, Busy> {
        let inner = &self.inner;
        if let Ok(permit) = inner.slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let limit = match wait {
            Wait::Patient => return inner.slots.clone().acquire_owned().await.map_err(|_| Busy),
            Wait::IfFree => return Err(self.refuse()),
            Wait::Briefly(limit) => limit,
        };
        // Join the queue only if it has room; the count is taken and given back here.
        if inner.waiting.fetch_add(1, Ordering::SeqCst) >= inner.queue {
            inner.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(self.refuse());
        }
        let waited = tokio::time::timeout(limit, inner.slots.clone().acquire_owned()).await;
        inner.waiting.fetch_sub(1, Ordering::SeqCst);
        match waited {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(self.refuse()),
        }
    }

    fn refuse(&self) -> Busy {
        self.inner.refused.fetch_add(1, Ordering::Relaxed);
        Busy
    }

    pub fn stats(&self) -> SlotStats {
        let inner = &self.inner;
        SlotStats {
            slots: inner.total,
            in_use: inner.total - inner.slots.available_permits(),
            waiting: inner.waiting.load(Ordering::SeqCst),
            refused: inner.refused.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slots_queue_and_refusals() {
        let admission = Admission::new(1, 2);
        let held = admission.enter(Wait::Patient).await.unwrap();
        assert_eq!(admission.enter(Wait::IfFree).await.unwrap_err(), Busy);
        // Two may queue behind one slot; the third is refused at once.
        let brief = Wait::Briefly(Duration::from_secs(5));
        let (a, b) = (admission.clone(), admission.clone());
        let first = tokio::spawn(async move { a.enter(brief).await.map(drop) });
        let second = tokio::spawn(async move { b.enter(brief).await.map(drop) });
        while admission.stats().waiting < 2 {
            tokio::task::yield_now().await;
        }
        assert_eq!(admission.enter(brief).await.unwrap_err(), Busy);
        assert_eq!(admission.stats(), SlotStats { slots: 1, in_use: 1, waiting: 2, refused: 2 });
        drop(held);
        assert_eq!(first.await.unwrap(), Ok(()));
        assert_eq!(second.await.unwrap(), Ok(()));
        // A brief wait runs out.
        let _held = admission.enter(Wait::Patient).await.unwrap();
        assert_eq!(admission.enter(Wait::Briefly(Duration::from_millis(20))).await.unwrap_err(), Busy);
        assert_eq!(admission.stats().refused, 3);
    }
}
