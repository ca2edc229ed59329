//! Where events come from: the request that caused a change, which its events carry as
//! `event_attributes.http_request`.

use std::cell::RefCell;

/// The `event_attributes.http_request` of the events a change raises.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub(super) client_ip: String,
    pub(super) user_agent: String,
}

impl Origin {
    pub(crate) fn new(client_ip: std::net::IpAddr, user_agent: Option<&str>) -> Self {
        Self { client_ip: client_ip.to_string(), user_agent: user_agent.unwrap_or_default().to_owned() }
    }

    /// The origin of changes made through the Rust helpers.
    fn helper() -> Self {
        Self {
            client_ip: "127.0.0.1".to_owned(),
            user_agent: concat!("clerk-testing/", env!("CARGO_PKG_VERSION")).into(),
        }
    }
}

thread_local! {
    static ORIGIN: RefCell<Option<Origin>> = const { RefCell::new(None) };
}

/// Runs `f` (synchronous: the store lock is taken and released inside) with `origin` as the origin of the events
/// its changes raise.
pub(crate) fn with_origin<R>(origin: Origin, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Origin>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            ORIGIN.with(|o| *o.borrow_mut() = prev);
        }
    }
    let prev = ORIGIN.with(|o| o.borrow_mut().replace(origin));
    let _restore = Restore(prev);
    f()
}

pub(super) fn current_origin() -> Origin {
    ORIGIN.with(|o| o.borrow().clone()).unwrap_or_else(Origin::helper)
}
