//! The fake gateway's Sesame credit-borrowing orders (芝麻信用 信用借还,
//! `zhima.merchant.order.rent.*`): created once per `out_order_no`
//! (Sesame is idempotent on it), modified, completed, queried.

use std::collections::HashMap;
use wangjie_shared::alipay::rent::PRODUCT_RENT;

/// One order as Sesame keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RentOrder {
    /// Sesame's order number.
    pub order_no: String,
    /// `borrow`, `restore` or `cancel`.
    pub use_state: String,
    /// The latest return before the order is overdue.
    pub expiry_time: String,
    /// The title.
    pub goods_name: String,
}

/// Every order, by our `out_order_no`.
#[derive(Debug, Default)]
pub struct RentBook {
    orders: HashMap<String, RentOrder>,
}

impl RentBook {
    /// The order created for `out_order_no`.
    pub fn get(&self, out_order_no: &str) -> Option<RentOrder> {
        self.orders.get(out_order_no).cloned()
    }

    fn by_order_no(&mut self, order_no: &str) -> Option<&mut RentOrder> {
        self.orders.values_mut().find(|o| o.order_no == order_no)
    }

    /// Answers one `zhima.merchant.order.rent.*` call: the response member
    /// (a business failure has `code` 40004), or `None` for another method.
    pub fn answer(&mut self, method: &str, biz: &serde_json::Value) -> Option<serde_json::Value> {
        let text = |name: &str| biz[name].as_str().unwrap_or_default().to_string();
        let failed = |sub_code: &str, message: &str| serde_json::json!({"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": message});
        if method.starts_with("zhima.merchant.order.rent.") && text("product_code") != PRODUCT_RENT
        {
            return Some(failed("PRODUCT_CODE_ERROR", "产品码错误"));
        }
        let member = match method {
            "zhima.merchant.order.rent.create" => {
                let out = text("out_order_no");
                let (borrow, expiry) = (text("borrow_time"), text("expiry_time"));
                if out.is_empty() || text("goods_name").is_empty() || expiry <= borrow {
                    return Some(failed("INVALID_PARAMETER", "参数有误"));
                }
                let next = self.orders.len() + 1;
                let order = self.orders.entry(out.clone()).or_insert_with(|| RentOrder {
                    order_no: format!("ZM{next:08}"),
                    use_state: "borrow".into(),
                    expiry_time: expiry,
                    goods_name: text("goods_name"),
                });
                serde_json::json!({"code": "10000", "msg": "Success", "order_no": order.order_no,
                    "out_order_no": out, "admit_state": "Y", "user_id": "2088000000000720"})
            }
            "zhima.merchant.order.rent.modify" => match self.by_order_no(&text("order_no")) {
                Some(order) if order.use_state == "borrow" => {
                    order.expiry_time = text("expiry_time");
                    serde_json::json!({"code": "10000", "msg": "Success"})
                }
                Some(_) => failed("ORDER_IS_NOT_BORROW", "订单不是借出状态"),
                None => failed("ORDER_NOT_EXIST", "订单不存在"),
            },
            "zhima.merchant.order.rent.complete" => match self.by_order_no(&text("order_no")) {
                Some(order) => {
                    order.use_state = "restore".into();
                    serde_json::json!({"code": "10000", "msg": "Success", "order_no": order.order_no,
                        "pay_amount_type": text("pay_amount_type"), "pay_amount": text("pay_amount")})
                }
                None => failed("ORDER_NOT_EXIST", "订单不存在"),
            },
            "zhima.merchant.order.rent.query" => match self.orders.get(&text("out_order_no")) {
                Some(order) => serde_json::json!({"code": "10000", "msg": "Success",
                    "order_no": order.order_no, "use_state": order.use_state,
                    "goods_name": order.goods_name, "admit_state": "Y"}),
                None => failed("ORDER_NOT_EXIST", "订单不存在"),
            },
            _ => return None,
        };
        Some(member)
    }
}
