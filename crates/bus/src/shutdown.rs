//! The shutdown signal: one cancellation token (tokio-util) for the whole
//! process, passed into every task, not a global. The fetcher takes the
//! token itself ([`Shutdown::token`]); stages and servers take a
//! [`Shutdown`] handle on it.

use tokio_util::sync::CancellationToken;

/// Fires the shutdown. Dropping it without firing does not fire it.
#[derive(Debug)]
pub struct ShutdownTrigger {
    token: CancellationToken,
}

/// A cheap, cloneable handle that tells a task when to stop.
#[derive(Clone, Debug)]
pub struct Shutdown {
    token: CancellationToken,
}

impl Shutdown {
    /// A trigger and its first handle.
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let token = CancellationToken::new();
        (
            ShutdownTrigger {
                token: token.clone(),
            },
            Shutdown { token },
        )
    }

    /// The token itself, for crates that do not depend on this one.
    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves when the shutdown fires (at once if it already has). If the
    /// trigger is dropped unfired this never resolves.
    pub async fn wait(&mut self) {
        self.token.cancelled().await;
    }
}

impl ShutdownTrigger {
    pub fn fire(&self) {
        self.token.cancel();
    }

    /// Another handle on the same signal.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown {
            token: self.token.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_handle_sees_the_signal() {
        let (trigger, mut first) = Shutdown::new();
        let mut second = trigger.subscribe();
        let token = first.token();
        assert!(!first.is_triggered() && !token.is_cancelled());
        trigger.fire();
        first.wait().await;
        second.wait().await;
        token.cancelled().await;
        assert!(second.is_triggered());
    }

    #[tokio::test]
    async fn a_trigger_dropped_unfired_does_not_fire() {
        let (trigger, mut handle) = Shutdown::new();
        drop(trigger);
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(50), handle.wait()).await;
        assert!(waited.is_err());
        assert!(!handle.is_triggered());
    }
}
