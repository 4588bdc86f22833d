//! Outgoing `Call.Callback*` webhooks: URL, signing, delivery and its log.

mod log;
mod sender;
mod sign;
mod trtc;
mod url;

pub use log::{WebhookLog, WebhookRecord};
pub use sender::{Outgoing, WebhookSender};
pub use sign::sign;
pub use trtc::{TrtcCallback, TrtcEmitter};
pub use url::{webhook_url, OptPlatform};
