//! Sesame credit borrowing (芝麻信用 信用借还), product
//! `w1010100000000002858`: a deposit-free loan recorded as an order at
//! Sesame, created when the loan starts, moved when it is renewed,
//! completed when the book comes back, and asked after when it is late.
//! Builders of the gateway calls and readers of their answers; the methods
//! and `biz_content` fields are Alipay's (docs/credit.md lists them).

use super::gateway::{GatewayCall, GatewayFailure};

/// The credit-borrowing product code every call names.
pub const PRODUCT_RENT: &str = "w1010100000000002858";

/// What a credit-borrowing order is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RentOrder {
    /// Ours, unique: Sesame is idempotent on it.
    pub out_order_no: String,
    /// The book's title, cut to 14 characters (Sesame's limit).
    pub goods_name: String,
    /// When the loan started, `yyyy-MM-dd HH:mm:ss` Beijing time.
    pub borrow_time: String,
    /// The latest return before Sesame counts the order overdue: the due
    /// date plus the library's grace.
    pub expiry_time: String,
    /// Where the book was taken.
    pub borrow_shop_name: String,
    /// What the reader would have paid as a deposit, in yuan: the most
    /// Sesame lets us claim for a lost book.
    pub deposit_amount: String,
}

fn call(method: &'static str, biz: serde_json::Value) -> GatewayCall {
    GatewayCall {
        method,
        params: vec![("biz_content".into(), biz.to_string())],
    }
}

/// `zhima.merchant.order.rent.create`: a free loan (`rent_amount` 0.00)
/// that no deposit can replace (`deposit_state` N: without the Sesame
/// standing the reader borrows on a deposit of ours, not Sesame's).
pub fn create(order: &RentOrder) -> GatewayCall {
    let goods: String = order.goods_name.chars().take(14).collect();
    let shop: String = order.borrow_shop_name.chars().take(20).collect();
    call(
        "zhima.merchant.order.rent.create",
        serde_json::json!({
            "out_order_no": order.out_order_no,
            "product_code": PRODUCT_RENT,
            "goods_name": goods,
            "rent_unit": "YUAN",
            "rent_amount": "0.00",
            "deposit_amount": order.deposit_amount,
            "deposit_state": "N",
            "borrow_time": order.borrow_time,
            "expiry_time": order.expiry_time,
            "borrow_shop_name": shop,
            "invoke_type": "TINYAPP",
        }),
    )
}

/// `zhima.merchant.order.rent.modify`: a renewal moves the expiry.
pub fn modify(order_no: &str, expiry_time: &str) -> GatewayCall {
    call(
        "zhima.merchant.order.rent.modify",
        serde_json::json!({
            "order_no": order_no,
            "product_code": PRODUCT_RENT,
            "expiry_time": expiry_time,
        }),
    )
}

/// `zhima.merchant.order.rent.complete`: the book came back (or was
/// declared lost and is paid for through our own trade); nothing to
/// collect through Sesame (`RENT` 0.00).
pub fn complete(order_no: &str, restore_time: &str, restore_shop_name: &str) -> GatewayCall {
    let shop: String = restore_shop_name.chars().take(20).collect();
    call(
        "zhima.merchant.order.rent.complete",
        serde_json::json!({
            "order_no": order_no,
            "product_code": PRODUCT_RENT,
            "restore_time": restore_time,
            "pay_amount_type": "RENT",
            "pay_amount": "0.00",
            "restore_shop_name": shop,
        }),
    )
}

/// `zhima.merchant.order.rent.query`: where Sesame has the order.
pub fn query(out_order_no: &str) -> GatewayCall {
    call(
        "zhima.merchant.order.rent.query",
        serde_json::json!({ "out_order_no": out_order_no, "product_code": PRODUCT_RENT }),
    )
}

/// Sesame's `order_no` from a create answer.
pub fn read_order_no(member: &serde_json::Value) -> Result<String, GatewayFailure> {
    member
        .get("order_no")
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .map(str::to_string)
        .ok_or_else(|| GatewayFailure::Malformed("no order_no".into()))
}

/// `use_state` from a query answer: `borrow` (still out, so late once the
/// expiry passed), `restore` or `cancel`.
pub fn read_use_state(member: &serde_json::Value) -> Result<String, GatewayFailure> {
    match member.get("use_state").and_then(|v| v.as_str()) {
        Some(state @ ("borrow" | "restore" | "cancel")) => Ok(state.to_string()),
        _ => Err(GatewayFailure::Malformed("no known use_state".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn biz(call: &GatewayCall) -> serde_json::Value {
        let (_, text) = call
            .params
            .iter()
            .find(|(k, _)| k == "biz_content")
            .unwrap();
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_created_order_is_free_and_names_its_expiry() {
        let call = create(&RentOrder {
            out_order_no: "WJZM42".into(),
            goods_name: "一本书名非常非常非常非常非常长的书籍".into(),
            borrow_time: "2026-12-02 10:00:00".into(),
            expiry_time: "2027-01-04 10:00:00".into(),
            borrow_shop_name: "B001".into(),
            deposit_amount: "100.00".into(),
        });
        assert_eq!(call.method, "zhima.merchant.order.rent.create");
        let biz = biz(&call);
        assert_eq!(biz["out_order_no"], "WJZM42");
        assert_eq!(biz["product_code"], PRODUCT_RENT);
        assert_eq!(biz["rent_amount"], "0.00");
        assert_eq!(biz["expiry_time"], "2027-01-04 10:00:00");
        assert_eq!(biz["goods_name"].as_str().unwrap().chars().count(), 14);
    }

    #[test]
    fn completion_collects_nothing_through_sesame() {
        let biz = biz(&complete("ZM1", "2026-12-03 09:00:00", "B002"));
        assert_eq!(biz["order_no"], "ZM1");
        assert_eq!(biz["pay_amount_type"], "RENT");
        assert_eq!(biz["pay_amount"], "0.00");
    }

    #[test]
    fn answers_are_read_or_refused_as_malformed() {
        assert_eq!(
            read_order_no(&serde_json::json!({"order_no": "ZM7"})).unwrap(),
            "ZM7"
        );
        assert!(read_order_no(&serde_json::json!({})).is_err());
        assert_eq!(
            read_use_state(&serde_json::json!({"use_state": "borrow"})).unwrap(),
            "borrow"
        );
        assert!(read_use_state(&serde_json::json!({"use_state": "lost"})).is_err());
    }
}
