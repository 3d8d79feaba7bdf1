//! A shutdown signal passed into every task, not a global.

use tokio::sync::watch;

/// Fires the shutdown. Dropping it without firing does not fire it.
#[derive(Debug)]
pub struct ShutdownTrigger {
    sender: watch::Sender<bool>,
}

/// A cheap, cloneable handle that tells a task when to stop.
#[derive(Clone, Debug)]
pub struct Shutdown {
    receiver: watch::Receiver<bool>,
}

impl Shutdown {
    /// A trigger and its first handle.
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (sender, receiver) = watch::channel(false);
        (ShutdownTrigger { sender }, Shutdown { receiver })
    }

    /// The underlying watch channel, for crates that do not depend on this
    /// one (the fetcher takes a `watch::Receiver<bool>`).
    pub fn watch(&self) -> watch::Receiver<bool> {
        self.receiver.clone()
    }

    pub fn is_triggered(&self) -> bool {
        *self.receiver.borrow()
    }

    /// Resolves when the shutdown fires (at once if it already has). If the
    /// trigger is dropped unfired this never resolves.
    pub async fn wait(&mut self) {
        if self.receiver.wait_for(|fired| *fired).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl ShutdownTrigger {
    pub fn fire(&self) {
        self.sender.send_replace(true);
    }

    /// Another handle on the same signal.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown {
            receiver: self.sender.subscribe(),
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
        assert!(!first.is_triggered());
        trigger.fire();
        first.wait().await;
        second.wait().await;
        assert!(second.is_triggered());
    }
}
