//! The reader's side: place (idempotent by `Idempotency-Key`), list,
//! show and cancel their own orders.

use serde::{Deserialize, Serialize};
use wangjie_shared::orders::{
    self, cancel, payment, view, Fulfilment, OrderSettings, OrderView, Placement,
};
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::providers::Alipay;
use wangjie_shared::spin::{config, db, session};
use wangjie_shared::{now_ms, Error, Result};

/// Most titles one order may carry: a long multi-volume set.
const MAX_LINES: usize = 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    lines: Vec<i64>,
    fulfilment: FulfilmentBody,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum FulfilmentBody {
    Pickup { point_code: String },
    Door { address: String },
}

#[derive(Serialize)]
struct Placed {
    #[serde(flatten)]
    order: OrderView,
    /// For a door delivery awaiting its fee: what `my.tradePay` takes.
    #[serde(skip_serializing_if = "Option::is_none")]
    order_str: Option<String>,
}

fn placement(request: &Request, via: Option<&str>) -> Result<Placement> {
    let key = request
        .header("idempotency-key")
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            Error::invalid(
                "Idempotency-Key",
                "required: a unique key per order the reader means to place",
            )
        })?;
    if key.len() > 64 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid(
            "Idempotency-Key",
            "1 to 64 visible ASCII characters",
        ));
    }
    let body: Body = request.json()?;
    if body.lines.is_empty() || body.lines.len() > MAX_LINES {
        return Err(Error::invalid(
            "lines",
            format!("1 to {MAX_LINES} record ids"),
        ));
    }
    let mut sorted = body.lines.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != body.lines.len() {
        return Err(Error::invalid("lines", "a title appears twice"));
    }
    let fulfilment = match body.fulfilment {
        FulfilmentBody::Pickup { point_code } => Fulfilment::Pickup { point_code },
        FulfilmentBody::Door { address } => {
            let address = address.trim().to_string();
            if address.is_empty() || address.chars().count() > 200 {
                return Err(Error::invalid("fulfilment.address", "1 to 200 characters"));
            }
            Fulfilment::Door { address }
        }
    };
    Ok(Placement {
        record_ids: body.lines,
        fulfilment,
        idempotency_key: key.to_string(),
        channel: match via {
            Some("alipay") => "alipay",
            Some("wechat") => "wechat",
            _ => "web",
        },
    })
}

/// `POST /api/orders`: 201 with the order; the same again for a retry
/// with the same `Idempotency-Key`, never a second order.
///
/// The token's signature is checked here and its revocation by the
/// placement itself, in the same round trip as everything else
/// (docs/orders.md, "One round trip"); the key-value store is asked only
/// for a token older than that check.
pub fn place(request: &Request) -> Result<Reply> {
    let now = now_ms();
    let caller = session::authenticate_signed(request, now)?;
    let placement = placement(request, caller.pending().via.as_deref())?;
    let settings = OrderSettings {
        door_fee_fen: config::number("door_delivery_fee_fen", 500)? as i64,
        payment_window_ms: config::number("payment_window_ms", 30 * 60 * 1000)? as i64,
    };
    // A door order could never be paid without Alipay, and would hold its
    // copies until it expired: it is refused before anything is stored, so
    // a retry gets the same answer.
    let alipay = match placement.fulfilment {
        Fulfilment::Door { .. } => Some(Alipay::from_variables().map_err(|cause| {
            eprintln!("door order refused: {cause}");
            payment::fee_unavailable()
        })?),
        Fulfilment::Pickup { .. } => None,
    };
    let db = db::connect()?;
    let (order, _placed) =
        orders::place::place(db.as_ref(), &caller, &placement, settings, now, &mut || {
            session::revoked_in_store(caller.pending())
        })?;
    let order_str = match (&alipay, &order.payment_ref, order.state.as_str()) {
        (Some(alipay), Some(trade), "awaiting_payment") => {
            Some(alipay.order_string(trade, order.fee_fen, "网借 送书上门", now)?)
        }
        _ => None,
    };
    Ok(Reply::json(201, &Placed { order, order_str }))
}

/// `GET /api/orders`.
pub fn list(request: &Request) -> Result<Reply> {
    let claims = session::authenticate(request, now_ms())?;
    let orders = view::list_for_reader(db::connect()?.as_ref(), claims.reader_id)?;
    Ok(Reply::json(200, &serde_json::json!({ "orders": orders })))
}

/// `GET /api/orders/{id}`: only the reader's own.
pub fn show(request: &Request, id: i64) -> Result<Reply> {
    let claims = session::authenticate(request, now_ms())?;
    let order = view::get_for_reader(db::connect()?.as_ref(), claims.reader_id, id)?;
    Ok(Reply::json(200, &order))
}

/// `POST /api/orders/{id}/cancel`: while the order is still placed,
/// awaiting payment or being picked.
pub fn cancel(request: &Request, id: i64) -> Result<Reply> {
    let now = now_ms();
    let claims = session::authenticate(request, now)?;
    let order = cancel::by_reader(db::connect()?.as_ref(), claims.reader_id, id, now)?;
    Ok(Reply::json(200, &order))
}
