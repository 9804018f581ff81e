//! The staff's side, always for their own point.

use serde::Deserialize;
use wangjie_shared::compensation::{self, CompensationRules};
use wangjie_shared::loans;
use wangjie_shared::orders::worklist::{self, Stage};
use wangjie_shared::orders::{delivery, fulfil};
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::{config, db, session};
use wangjie_shared::staff::{self, Staff};
use wangjie_shared::{now_ms, Error, Result};

fn signed_in(request: &Request, db: &dyn wangjie_shared::db::Db) -> Result<Staff> {
    let claims = session::authenticate_staff(request, now_ms())?;
    staff::signed_in(db, claims.reader_id)
}

/// `GET /api/staff/picklist[?format=html]`: JSON, or a page to print.
pub fn pick_list(request: &Request) -> Result<Reply> {
    let db = db::connect()?;
    let staff = signed_in(request, db.as_ref())?;
    let items = fulfil::pick_list(db.as_ref(), &staff.home_point)?;
    if request.param("format") == Some("html") {
        return Ok(Reply {
            status: 200,
            content_type: "text/html; charset=utf-8",
            headers: Vec::new(),
            body: page(&staff, &items).into_bytes(),
        });
    }
    Ok(Reply::json(
        200,
        &serde_json::json!({ "point": staff.home_point, "items": items }),
    ))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(staff: &Staff, items: &[fulfil::PickItem]) -> String {
    let rows: String = items
        .iter()
        .map(|i| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&i.call_number),
                escape(&i.barcode),
                escape(&i.title),
                i.order_id,
                escape(&i.destination)
            )
        })
        .collect();
    format!(
        "<!doctype html><html lang=\"zh\"><meta charset=\"utf-8\"><title>拣书单 {point}</title>\
         <style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:4px}}</style>\
         <h1>拣书单 Pick list · {point}</h1><p>{count} 册 copies</p>\
         <table><tr><th>索书号 Call number</th><th>条码 Barcode</th><th>题名 Title</th><th>订单 Order</th><th>送往 To</th></tr>{rows}</table></html>",
        point = escape(&staff.home_point),
        count = items.len()
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scan {
    barcode: String,
}

/// The barcode of a `{"barcode"}` body, trimmed: 1 to 64 characters.
fn scanned(request: &Request) -> Result<String> {
    let scan: Scan = request.json()?;
    let barcode = scan.barcode.trim();
    if barcode.is_empty() || barcode.len() > 64 {
        return Err(Error::invalid("barcode", "1 to 64 characters"));
    }
    Ok(barcode.to_string())
}

/// `POST /api/staff/picks {"barcode"}`: scan-to-pick.
pub fn pick(request: &Request) -> Result<Reply> {
    let db = db::connect()?;
    let staff = signed_in(request, db.as_ref())?;
    let barcode = scanned(request)?;
    let barcode = barcode.as_str();
    let order = fulfil::pick(db.as_ref(), &staff, barcode, now_ms())?;
    Ok(Reply::json(200, &order))
}

/// `POST /api/staff/returns {"barcode"}`: a copy handed in at the staff's
/// counter (its loan closes) or arriving home from elsewhere; 200 with where
/// it goes, 409 when it is neither on loan nor on its way home here.
pub fn check_in(request: &Request) -> Result<Reply> {
    let db = db::connect()?;
    let staff = signed_in(request, db.as_ref())?;
    let barcode = scanned(request)?;
    let barcode = barcode.as_str();
    let actor = format!("staff:{}", staff.id);
    match loans::check_in(db.as_ref(), barcode, &staff.home_point, &actor, now_ms())? {
        Some(checked) => Ok(Reply::json(200, &checked)),
        None => Err(Error::Conflict(format!(
            "copy {barcode} is not on loan, nor on its way home to {}",
            staff.home_point
        ))),
    }
}

/// `GET /api/staff/orders?stage=parcel|arrive|hand_over|deliver[&card=]`:
/// the point's work at one step; `card` narrows it to one reader's orders.
pub fn work_list(request: &Request) -> Result<Reply> {
    let db = db::connect()?;
    let staff = signed_in(request, db.as_ref())?;
    let stage = Stage::parse(request.param("stage").unwrap_or(""))?;
    let reader = match request.param("card") {
        Some(card) => Some(worklist::card_holder(db.as_ref(), card)?),
        None => None,
    };
    let orders = worklist::list(db.as_ref(), &staff, stage, reader)?;
    Ok(Reply::json(
        200,
        &serde_json::json!({ "point": staff.home_point, "stage": request.param("stage"), "orders": orders }),
    ))
}

/// `GET /api/staff/orders/{id}`: an order passing through the staff's point.
pub fn show(request: &Request, order: i64) -> Result<Reply> {
    let db = db::connect()?;
    let staff = signed_in(request, db.as_ref())?;
    Ok(Reply::json(
        200,
        &worklist::for_staff(db.as_ref(), &staff, order)?,
    ))
}

/// `POST /api/staff/lines/{id}/missing`: the copy is not on its shelf.
pub fn not_on_shelf(request: &Request, line: i64) -> Result<Reply> {
    let db = db::connect()?;
    let staff = signed_in(request, db.as_ref())?;
    let order = fulfil::not_on_shelf(db.as_ref(), &staff, line, now_ms())?;
    Ok(Reply::json(200, &order))
}

/// `POST /api/staff/orders/{id}/{pack|dispatch|arrive|hand-over|deliver}`.
pub fn step(request: &Request, order: i64, step: &str) -> Result<Reply> {
    let db = db::connect()?;
    let staff = signed_in(request, db.as_ref())?;
    let now = now_ms();
    let order = match step {
        "pack" => delivery::pack(db.as_ref(), &staff, order, now)?,
        "dispatch" => delivery::dispatch(db.as_ref(), &staff, order, now)?,
        "arrive" => {
            let hold_ms = config::number("pickup_hold_ms", 7 * 24 * 60 * 60 * 1000)? as i64;
            delivery::arrive(db.as_ref(), &staff, order, hold_ms, now)?
        }
        "hand-over" => delivery::hand_over(db.as_ref(), &staff, order, loan_ms()?, now)?,
        "deliver" => delivery::deliver(db.as_ref(), &staff, order, loan_ms()?, now)?,
        _ => return Err(Error::NotFound { what: "route" }),
    };
    Ok(Reply::json(200, &order))
}

/// How long a loan runs once the reader has the books.
fn loan_ms() -> Result<i64> {
    Ok(config::number("loan_period_ms", 30 * 24 * 60 * 60 * 1000)? as i64)
}

/// `POST /api/staff/copies/{barcode}/damaged`: a copy returned here is
/// damaged; its last reader owes for it, the copy is withdrawn. 201 with
/// the compensation opened, 200 when it was opened already.
pub fn mark_damaged(request: &Request, barcode: &str) -> Result<Reply> {
    let db = db::connect()?;
    let staff = signed_in(request, db.as_ref())?;
    let rules = CompensationRules::from_settings(config::optional)?;
    let (opened, reader_id, first) =
        compensation::mark_damaged(db.as_ref(), &staff, barcode, rules, now_ms())?;
    Ok(Reply::json(
        if first { 201 } else { 200 },
        &serde_json::json!({ "compensation": opened, "reader_id": reader_id }),
    ))
}
