//! The browser's WebSocket to the relay: the shared protocol's client side, reconnecting with
//! backoff. It hands every decoded message to the document module and never touches the
//! document itself.

use crate::engine::{Engine, after};
use leptos::prelude::*;
use shared::protocol::{ClientConnection, Incoming, Message, decode, encode};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, MessageEvent, WebSocket};

/// What the interface says about the relay.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum SyncStatus {
    /// No relay configured: the register lives in this browser only.
    Local,
    Connecting,
    Connected,
    /// The relay cannot be reached; the next attempt is this many seconds after the last.
    Offline {
        retry_in: u32,
    },
    /// The relay turned the token or a change away; retrying would not help.
    Refused(String),
    /// The relay has no such register for this member.
    Unavailable,
}

impl SyncStatus {
    pub fn describe(&self) -> String {
        match self {
            SyncStatus::Local => "Working locally: no relay set up".into(),
            SyncStatus::Connecting => "Connecting to the relay…".into(),
            SyncStatus::Connected => "Connected".into(),
            SyncStatus::Offline { retry_in } => format!("Offline: retrying in {retry_in} s"),
            SyncStatus::Refused(reason) => format!("The relay refused this browser: {reason}"),
            SyncStatus::Unavailable => "The relay does not have this register, or this invite does not open it".into(),
        }
    }
}

/// Longest wait between two attempts to reach the relay.
const MAX_BACKOFF: u32 = 30;

/// A socket event handler, kept alive on the Rust side while the socket may call it.
type Handler = Closure<dyn Fn(JsValue)>;

pub struct Link {
    url: String,
    pub connection: RefCell<ClientConnection>,
    socket: RefCell<Option<WebSocket>>,
    backoff: RefCell<u32>,
    /// The current socket's event handlers; replaced (and so freed) with the socket.
    handlers: RefCell<Vec<Handler>>,
    store: Engine,
}

impl Link {
    pub fn start(url: String, store: Engine) -> Rc<Link> {
        let peer = format!("browser-{}", uuid::Uuid::new_v4());
        let link = Rc::new(Link {
            url,
            connection: RefCell::new(ClientConnection::new(peer)),
            socket: RefCell::new(None),
            backoff: RefCell::new(1),
            handlers: RefCell::new(Vec::new()),
            store,
        });
        link.connect();
        // Coming back online is the moment to try, not whenever the backoff ends.
        let again = link.clone();
        let online = Closure::<dyn Fn()>::new(move || {
            if again.socket.borrow().is_none() {
                *again.backoff.borrow_mut() = 1;
                again.connect();
            }
        });
        // The page's and a worker's global scope both say when the network is back.
        let global: web_sys::EventTarget = js_sys::global().unchecked_into();
        let _ = global.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
        online.forget(); // lives as long as the worker
        link
    }

    fn connect(self: &Rc<Self>) {
        if matches!(self.store.sync.get_untracked(), SyncStatus::Refused(_)) {
            return;
        }
        self.store.sync.set(SyncStatus::Connecting);
        let socket = match WebSocket::new(&self.url) {
            Ok(socket) => socket,
            Err(_) => {
                self.store.sync.set(SyncStatus::Refused(format!("{} is not a relay address", self.url)));
                return;
            }
        };
        socket.set_binary_type(BinaryType::Arraybuffer);
        let peer = self.connection.borrow().peer_id().to_string();
        *self.connection.borrow_mut() = ClientConnection::new(peer);

        let this = self.clone();
        let on_open = Closure::<dyn Fn(JsValue)>::new(move |_| {
            let join = this.connection.borrow().join(None);
            this.send(&join);
        });
        let this = self.clone();
        let on_message = Closure::<dyn Fn(JsValue)>::new(move |event: JsValue| {
            let event: MessageEvent = event.unchecked_into();
            let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() else { return };
            let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
            let accepted = decode(&bytes)
                .map_err(|e| e.to_string())
                .and_then(|message| this.connection.borrow_mut().accept(message).map_err(|e| e.to_string()));
            match accepted {
                Ok(Incoming::Connected { .. }) => {
                    *this.backoff.borrow_mut() = 1;
                    this.store.connected();
                }
                Ok(incoming) => this.store.received(incoming),
                Err(e) => this.store.error.set(Some(format!("The relay sent something unreadable: {e}"))),
            }
        });
        let this = self.clone();
        let on_close = Closure::<dyn Fn(JsValue)>::new(move |_| {
            this.socket.borrow_mut().take();
            if matches!(this.store.sync.get_untracked(), SyncStatus::Refused(_)) {
                return;
            }
            let wait = *this.backoff.borrow();
            *this.backoff.borrow_mut() = (wait * 2).min(MAX_BACKOFF);
            this.store.sync.set(SyncStatus::Offline { retry_in: wait });
            let again = this.clone();
            after(Duration::from_secs(wait.into()), move || {
                if again.socket.borrow().is_none() {
                    again.connect();
                }
            });
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        *self.handlers.borrow_mut() = vec![on_open, on_message, on_close];
        *self.socket.borrow_mut() = Some(socket);
    }

    pub fn send(&self, message: &Message) {
        if let Some(socket) = self.socket.borrow().as_ref()
            && socket.ready_state() == WebSocket::OPEN
        {
            let _ = socket.send_with_u8_array(&encode(message));
        }
    }
}
