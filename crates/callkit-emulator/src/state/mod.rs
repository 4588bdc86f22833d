//! The emulated Tencent state: calls, records, callback configuration.

pub mod app_state;
pub mod call;
pub mod records;
pub mod view;

pub use app_state::{Act, AppState, Effects};
pub use call::{LiveCall, NewCall, Origin};
pub use records::RecordStore;
pub use view::CallView;
