//! Which handler serves each action, and how a request reaches it: with no
//! bearer token (the route proves the caller itself, or needs no proof), on
//! the live board, or as one Tencent command. One exhaustive match, so the
//! route never meets an action it has no handler for.

use std::future::Future;
use std::pin::Pin;

use super::auth::Identity;
use super::handlers::history::HistoryInput;
use super::handlers::{self, Input, Success};
use super::problem::ApiError;
use super::{health, openapi, panic_probe, Incoming};
use crate::live::Board;
use crate::platform::fetch_transport::FetchTransport;
use crate::platform::runtime::WorkerRuntime;

use super::actions::Action;

/// A handler's future, boxed so the route holds one small future instead of
/// every handler's state machine at once.
pub type Reply<'a> = Pin<Box<dyn Future<Output = Result<Success, ApiError>> + 'a>>;

pub type EdgeInput<'a> = Input<'a, FetchTransport, WorkerRuntime>;

pub enum Serve {
    Public(for<'a> fn(Incoming<'a>) -> Reply<'a>),
    /// On the live board, with the query's pairs.
    Board(for<'a> fn(&'a Board<'a>, &'a Identity, Vec<(String, String)>) -> Reply<'a>),
    Upstream(for<'a> fn(EdgeInput<'a>) -> Reply<'a>),
    /// The call ledger in D1 (and the board object, for the backfill).
    History(for<'a> fn(HistoryInput<'a>) -> Reply<'a>),
    /// Signed in and allowed by the policy, then handed the request and the
    /// caller's identity (GET /me answers from it; the relay's admin routes
    /// need only the sign-in).
    SignedIn(for<'a> fn(Incoming<'a>, Identity) -> Reply<'a>),
}

pub fn serve(action: Action) -> Serve {
    match action {
        Action::Health => Serve::Public(|r| {
            panic_probe::check(&r);
            Box::pin(async move { Success::json(200, &health::report(r.app), None) })
        }),
        Action::OpenApi => Serve::Public(|_| {
            Box::pin(async { Ok(Success::raw(200, openapi::DOCUMENT.to_owned())) })
        }),
        Action::ReceiveWebhook => Serve::Public(|r| Box::pin(handlers::webhook::receive(r))),
        Action::LiveSocket => Serve::Public(|r| Box::pin(handlers::live::socket(r))),
        Action::LiveCalls => Serve::Board(|b, who, q| Box::pin(handlers::live::calls(b, who, q))),
        Action::LiveTicket => Serve::Board(|b, who, _| Box::pin(handlers::live::ticket(b, who))),
        Action::GetCall => Serve::Upstream(|i| Box::pin(handlers::calls::get(i))),
        Action::EndCall => Serve::Upstream(|i| Box::pin(handlers::calls::end(i))),
        Action::StartCall => Serve::Upstream(|i| Box::pin(handlers::calls::start(i))),
        Action::GetRecord => Serve::Upstream(|i| Box::pin(handlers::records::get(i))),
        Action::ListRecords => Serve::Upstream(|i| Box::pin(handlers::records::list(i))),
        Action::GetCallback => Serve::Upstream(|i| Box::pin(handlers::callback::get(i))),
        Action::SetCallback => Serve::Upstream(|i| Box::pin(handlers::callback::put(i))),
        Action::DeleteCallback => Serve::Upstream(|i| Box::pin(handlers::callback::delete(i))),
        Action::MintUserSig => Serve::Upstream(|i| Box::pin(handlers::usersig::mint(i))),
        Action::Me => Serve::SignedIn(|r, who| {
            Box::pin(async move { handlers::me::me(&who, r.app.auth.provider()) })
        }),
        Action::ListHistory => Serve::History(|i| Box::pin(handlers::history::list(i))),
        Action::HistoryStats => Serve::History(|i| Box::pin(handlers::history::stats(i))),
        Action::ExportHistory => Serve::History(|i| Box::pin(handlers::history::export(i))),
        Action::StartBackfill => Serve::History(|i| Box::pin(handlers::history::start_backfill(i))),
        Action::BackfillStatus => {
            Serve::History(|i| Box::pin(handlers::history::backfill_progress(i)))
        }
        Action::GetHistoryCall => Serve::History(|i| Box::pin(handlers::history::one(i))),
        Action::EraseHistoryUser => Serve::History(|i| Box::pin(handlers::history::erase(i))),
        Action::RelayDeliveries => Serve::SignedIn(|r, _| Box::pin(handlers::relay::deliveries(r))),
        Action::Redeliver => Serve::SignedIn(|r, _| Box::pin(handlers::relay::redeliver(r))),
        Action::ReceiveTrtcEvent => Serve::Public(|r| Box::pin(handlers::trtc::receive(r))),
    }
}
