//! The live board: `GET /api/v1/live/calls`, `POST /api/v1/live/ticket` and
//! the socket `GET /api/v1/live?ticket=…` (docs/live-board.md).

use super::{Input, Success};
use crate::api::problem::ApiError;
use crate::api::Public;
use crate::board::Viewer;
use crate::live::BoardStub;

pub async fn calls(input: Input<'_>) -> Result<Success, ApiError> {
    let json = board(&input)?
        .calls(&viewer(&input))
        .await
        .map_err(ApiError::Board)?;
    Ok(Success::raw(200, json))
}

pub async fn ticket(input: Input<'_>) -> Result<Success, ApiError> {
    let json = board(&input)?
        .ticket(&viewer(&input))
        .await
        .map_err(ApiError::Board)?;
    Ok(Success::raw(200, json))
}

/// The ticket is the credential here; the board checks and spends it.
pub async fn socket(input: Public<'_>) -> Result<Success, ApiError> {
    let upgrade = input.header("Upgrade");
    if !upgrade.is_some_and(|u| u.trim().eq_ignore_ascii_case("websocket")) {
        return Err(ApiError::UpgradeRequired);
    }
    let ticket = input
        .query()
        .into_iter()
        .find(|(k, _)| k == "ticket")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let board = BoardStub::for_app(input.env, input.app.tencent.client.sdkappid)
        .map_err(ApiError::Board)?;
    let response = board
        .socket(input.req, &ticket)
        .await
        .map_err(ApiError::Board)?;
    Ok(Success::upgrade(response))
}

fn board(input: &Input<'_>) -> Result<BoardStub, ApiError> {
    BoardStub::for_app(input.env, input.app.tencent.client.sdkappid).map_err(ApiError::Board)
}

/// Admins see every call; under the `member` rule anyone else their own.
fn viewer(input: &Input<'_>) -> Viewer {
    Viewer {
        user_id: input.identity.user_id().to_owned(),
        is_admin: input.identity.is_admin(),
    }
}
