// Paying an Alipay trade (a deposit, a door-delivery fee) from the web app.
// The API answers a signed `alipay.trade.app.pay` order string for
// Alipay's in-app cashier: inside Alipay (the mini-program's web-view or
// Alipay's browser) AlipayJSBridge opens it; in any other browser the
// reader is told to open the page in Alipay. Alipay's notification to the
// server, not this page, marks the trade paid; screens poll for that.
export function canPayHere() {
  return typeof window.AlipayJSBridge !== 'undefined';
}

export function payInAlipay(orderStr) {
  return new Promise((done) => {
    window.AlipayJSBridge.call('tradePay', { orderStr }, (result) => done(result));
  });
}
