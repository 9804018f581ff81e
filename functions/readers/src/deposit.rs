//! The deposit: for a reader whose credit is not enough. Opening one gives
//! the mini-program a signed Alipay order string to pay with; the payment
//! is confirmed only by Alipay's notification (the `webhooks` component).

use serde::Serialize;
use wangjie_shared::readers::deposit::{self, Deposit};
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::providers::Alipay;
use wangjie_shared::spin::{config, db, session};
use wangjie_shared::{now_ms, Error, Result};

/// 100 yuan unless the library sets `deposit_fen`.
const DEFAULT_DEPOSIT_FEN: u64 = 10_000;

#[derive(Serialize)]
struct Opened {
    deposit: Deposit,
    /// What `my.tradePay({ orderStr })` takes: the signed
    /// `alipay.trade.app.pay` parameters.
    order_str: String,
}

/// `POST /api/me/deposit`.
pub fn open(request: &Request) -> Result<Reply> {
    let now = now_ms();
    let claims = session::authenticate(request, now)?;
    let amount = config::number("deposit_fen", DEFAULT_DEPOSIT_FEN)? as i64;
    let deposit = deposit::open(db::connect()?.as_ref(), claims.reader_id, amount, now)?;
    let order_str = Alipay::from_variables()?.order_string(
        &deposit.out_trade_no,
        deposit.amount_fen,
        "网借 借阅押金",
        now,
    )?;
    Ok(Reply::json(201, &Opened { deposit, order_str }))
}

/// `GET /api/me/deposit`: the open or paid deposit.
pub fn show_current(request: &Request) -> Result<Reply> {
    let claims = session::authenticate(request, now_ms())?;
    let deposit = deposit::current(db::connect()?.as_ref(), claims.reader_id)?
        .ok_or(Error::NotFound { what: "deposit" })?;
    Ok(Reply::json(200, &deposit))
}

/// `GET /api/me/deposits/{id}`: only the reader's own.
pub fn show(request: &Request, id: &str) -> Result<Reply> {
    let claims = session::authenticate(request, now_ms())?;
    let id = wangjie_shared::request::path_id(id, "a deposit number")?;
    let deposit = deposit::get_for(db::connect()?.as_ref(), claims.reader_id, id)?;
    Ok(Reply::json(200, &deposit))
}
