//! The live board: `GET /api/v1/live/calls`, `POST /api/v1/live/ticket` and
//! the socket `GET /api/v1/live?ticket=…` (docs/live-board.md).

use super::Success;
use crate::api::auth::Identity;
use crate::api::policy::Action;
use crate::api::problem::ApiError;
use crate::api::Incoming;
use crate::board::Viewer;
use crate::live::{tickets, BoardError, BoardStub};

pub async fn calls(board: &BoardStub, identity: &Identity) -> Result<Success, ApiError> {
    let json = board.calls(&viewer(identity)).await?;
    Ok(Success::raw(200, json))
}

pub async fn ticket(board: &BoardStub, identity: &Identity) -> Result<Success, ApiError> {
    let json = board.ticket(&viewer(identity)).await?;
    Ok(Success::raw(200, json))
}

/// The ticket is the credential here; the board checks and spends it. A
/// browser page of another origin may not open the socket even with a
/// ticket (no cross-site WebSocket hijacking): same origin, or one of
/// `ALLOWED_ORIGINS`, or no `Origin` at all (not a browser).
pub async fn socket(input: Incoming<'_>) -> Result<Success, ApiError> {
    let upgrade = input.header("Upgrade");
    if !upgrade.is_some_and(|u| u.trim().eq_ignore_ascii_case("websocket")) {
        return Err(ApiError::UpgradeRequired);
    }
    if let Some(origin) = input.header("Origin") {
        if origin != input.own_origin() && !input.app.cors.is_allowed(&origin) {
            return Err(ApiError::Forbidden {
                action: Action::LiveSocket,
            });
        }
    }
    let ticket = input
        .query()
        .into_iter()
        .find(|(k, _)| k == "ticket")
        .map(|(_, v)| v)
        .unwrap_or_default();
    // Only what the board issues is worth a trip; other text may not even
    // fit in the header that carries it there.
    if !tickets::is_well_formed(&ticket) {
        return Err(BoardError::InvalidTicket.into());
    }
    let board = input.board()?;
    let (response, viewer) = board.socket(input.req, &ticket).await?;
    input.line.identity = Some(viewer);
    Ok(Success::upgrade(response))
}

/// Admins see every call; under the `member` rule anyone else their own.
fn viewer(identity: &Identity) -> Viewer {
    Viewer {
        user_id: identity.user_id().to_owned(),
        is_admin: identity.is_admin(),
    }
}
