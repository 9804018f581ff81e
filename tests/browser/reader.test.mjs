// The reader's app (/m/) in Debian's Chromium on a phone-sized screen: a
// reader signs in through the fake Alipay authorize page, searches `santi`,
// borrows 三体 and its second volume for a branch in one order, follows it while staff move it along
// through the API, sees it ready, sees the loan and renews it. Every
// screen is checked by axe-core and photographed; the page must log no
// error. A last test loads the app cold on Chrome's "Fast 3G" profile.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startApp, launchBrowser, watchProblems, shot, axe, SHOTS } from './harness.mjs';

/** Chrome DevTools' "Fast 3G" preset (what its Network panel applies). */
export const FAST_3G = {
  offline: false,
  latency: 562.5,
  downloadThroughput: (1.6 * 1024 * 1024 / 8) * 0.9,
  uploadThroughput: (750 * 1024 / 8) * 0.9,
};
const FIRST_LOAD_BUDGET_MS = 2000;

// Near the central library (B001, 杭州图书馆), which has a copy of 三体.
const NEAR_B001 = { latitude: 30.2449, longitude: 120.2101 };

const PHONE = {
  viewport: { width: 360, height: 740 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'zh-CN',
  timezoneId: 'Asia/Shanghai',
  userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36',
};

let app;
let browser;

before(async () => {
  app = await startApp({ records: 3000 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

/** A staff token for someone working at `point`. */
async function staffAt(point) {
  const { staff } = await app.admin('GET', `/admin/staff?point=${point}`);
  assert.ok(staff.length, `someone works at ${point}`);
  return (await app.admin('POST', `/admin/staff/${staff[0].id}/session`)).token;
}

/**
 * axe-core finds nothing on the screen; a full-page screenshot `name`, and
 * with `phone`, also what the phone's screen shows (`name.screen.png`, the
 * kind docs/screenshots/ keeps: fixed bars where a phone shows them).
 */
async function checked(page, name, { phone = false } = {}) {
  assert.deepEqual(await axe(page), [], `axe finds nothing on ${name}`);
  await shot(page, name);
  if (phone) await page.screenshot({ path: join(SHOTS, `${name}.screen.png`) });
}

/** Goes through the fake provider's page as `code`, back to the app. */
async function consentAs(page, code) {
  await page.waitForURL(/oauth2|connect/);
  await page.getByRole('link', { name: code }).click();
  await page.waitForURL(/\/m\/#/);
}

test('a reader signs in, borrows 三体 with its second volume for a branch, follows the order to the shelf and renews a loan', async () => {
  const context = await browser.newContext({
    ...PHONE,
    geolocation: NEAR_B001,
    permissions: ['geolocation'],
  });
  const page = await context.newPage();
  const problems = watchProblems(page);

  // The site's root sends a phone to the reader's app, Chinese first.
  await page.goto(`${app.url}/`);
  await page.waitForURL(/\/m\/$/);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');

  // Find: search as you type, in pinyin.
  const box = page.getByLabel('书名、作者、拼音或 ISBN');
  await box.fill('santi');
  const first = page.locator('.card').filter({ hasText: '刘慈欣' }).first();
  await first.waitFor();
  await page.getByRole('link', { name: /^三体 刘慈欣著/ }).waitFor();
  await page.getByRole('button', { name: '筛选' }).click();
  await page.getByRole('button', { name: '显示离我最近的取书点' }).click();
  await page.getByText(/最近取书点：/).first().waitFor();
  await page.getByRole('button', { name: '筛选' }).click();
  await checked(page, 'reader-search', { phone: true });

  // The second volume goes into the bag first: the set is one order.
  await page.getByRole('link', { name: /^三体Ⅱ·黑暗森林/ }).click();
  await page.getByRole('button', { name: '加入借书袋' }).click();
  await page.getByRole('button', { name: '已在借书袋' }).waitFor();
  await page.goBack();

  // The record page: copies by branch, borrow.
  await page.getByRole('link', { name: /^三体 刘慈欣著/ }).click();
  await page.getByRole('heading', { name: '三体', exact: true }).waitFor();
  await page.getByText('可在线借阅').waitFor();
  await checked(page, 'reader-record');
  await page.getByRole('button', { name: '借这本书' }).click();

  // The bag asks for a sign-in first; the fake Alipay page lists the demo users.
  await page.getByText('借书前请先登录。').waitFor();
  await page.getByRole('link', { name: '去登录' }).click();
  await page.getByRole('button', { name: '支付宝授权登录' }).click();
  await consentAs(page, 'demo-sesame-720');
  await page.getByText(/欢迎，/).waitFor();
  assert.match(page.url(), /\/m\/#\/bag$/, 'back in the bag, the code gone from the address');

  // No credit yet: the check goes through Alipay again, for Sesame.
  await page.getByRole('heading', { name: '信用借书' }).waitFor();
  await checked(page, 'reader-credit');
  await page.getByRole('button', { name: '用芝麻信用检查（支付宝授权）' }).click();
  await consentAs(page, 'demo-sesame-720');
  await page.getByText('芝麻信用达标：免押金借书，可送书上门。').waitFor();

  // Pickup at the nearest point: the central library.
  await page.getByRole('button', { name: '使用我的位置，按距离排序' }).click();
  const nearest = page.getByRole('radio', { name: /杭州图书馆（总馆）/ });
  await nearest.check();
  await page.getByText('今天 09:00–21:00').first().waitFor();
  await checked(page, 'reader-bag', { phone: true });
  await page.getByRole('button', { name: '提交订单（2 种）' }).click();
  await page.waitForURL(/#\/order\/\d+$/);
  const orderId = page.url().match(/order\/(\d+)/)[1];
  await page.getByText('备书中').first().waitFor();
  await page.getByRole('button', { name: '取消订单' }).waitFor();
  await checked(page, 'reader-order-placed');

  // Staff move it along through the API; the page follows by itself.
  const reader = await page.evaluate(() => localStorage.getItem('wangjie.reader.token'));
  const order = await app.as(reader, 'GET', `/api/orders/${orderId}`);
  assert.equal(order.pickup_point, 'B001');
  assert.deepEqual(order.lines.map((l) => l.title).sort(), ['三体', '三体Ⅱ·黑暗森林'], 'both volumes, one order');
  for (const line of order.lines) {
    await app.as(await staffAt(line.pick_point), 'POST', '/api/staff/picks', { barcode: line.copy_barcode });
  }
  const parcel = await staffAt(order.parcel_point);
  if (order.consolidate) await app.as(parcel, 'POST', `/api/staff/orders/${orderId}/pack`);
  await app.as(parcel, 'POST', `/api/staff/orders/${orderId}/dispatch`);
  await page.locator('.timeline li.current', { hasText: '已到取书点，待取书' }).waitFor();
  const counter = await staffAt('B001');
  await app.as(counter, 'POST', `/api/staff/orders/${orderId}/arrive`);
  await page.getByText('书已到 杭州图书馆（总馆） 服务台，请去取书。').waitFor();
  assert.equal(await page.getByRole('button', { name: '取消订单' }).count(), 0, 'no cancelling once it arrived');
  await checked(page, 'reader-order-ready', { phone: true });

  // The virtual card for the counter.
  await page.getByRole('link', { name: '我的', exact: true }).click();
  await page.getByRole('button', { name: '领取虚拟读者证' }).click();
  await page.getByRole('img', { name: /读者证二维码/ }).waitFor();
  const src = await page.getByRole('img', { name: /读者证二维码/ }).getAttribute('src');
  assert.match(src, /^data:image\/png;base64,/);
  await checked(page, 'reader-card', { phone: true });

  // Handed over at the counter: the loan starts; renew it.
  await app.as(counter, 'POST', `/api/staff/orders/${orderId}/hand-over`);
  await page.getByRole('link', { name: '借阅', exact: true }).click();
  await page.locator('.card').filter({ hasText: '三体Ⅱ·黑暗森林' }).waitFor();
  const loan = page.locator('.card').filter({ has: page.getByText('三体', { exact: true }) });
  await loan.getByText(/应还 /).waitFor();
  await loan.getByRole('button', { name: '续借《三体》' }).click();
  await loan.getByText(/已续借，新的应还日期/).waitFor();
  await loan.getByText('已续借 1 次').waitFor();
  await checked(page, 'reader-loans', { phone: true });

  // The order's timeline ends collected; the notice of arrival is listed.
  await page.goto(`${app.url}/m/#/order/${orderId}`);
  await page.locator('.timeline li.done', { hasText: '已取书' }).waitFor();
  await page.goto(`${app.url}/m/#/notices`);
  await page.getByText('可以取书了').waitFor();
  await checked(page, 'reader-notices');

  // English on request.
  await page.getByRole('button', { name: 'Switch to English' }).click();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.getByRole('link', { name: 'Loans', exact: true }).click();
  await page.getByRole('button', { name: 'Renew “三体”' }).waitFor();
  await checked(page, 'reader-loans-en');

  assert.deepEqual(problems, []);
  await context.close();
});

test('a return whose state this browser did not send signs nobody in', async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(`${app.url}/m/?auth_code=demo-sesame-720&state=forged-by-someone#/me`);
  await page.getByText('登录链接已失效或不是从本页发起的，请重新登录。').waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('wangjie.reader.token')), null);
  assert.doesNotMatch(page.url(), /auth_code/, 'the code is taken out of the address bar');
  await page.getByRole('button', { name: '支付宝授权登录' }).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test('a reader signs in through WeChat on the web, as the official account', async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  const problems = watchProblems(page);
  let posted;
  page.on('request', (request) => {
    if (request.url().endsWith('/api/session/wechat')) posted = request.postDataJSON();
  });
  await page.goto(`${app.url}/m/#/me`);
  await page.getByRole('button', { name: '微信授权登录' }).click();
  await consentAs(page, 'demo-wechat-1');
  await page.getByRole('button', { name: '退出登录' }).waitFor();
  assert.deepEqual(posted, { code: 'demo-wechat-1', via: 'web' });
  assert.ok(await page.evaluate(() => localStorage.getItem('wangjie.reader.token')));
  assert.deepEqual(problems, []);
  await context.close();
});

test('a reader without enough credit is told why and offered the deposit', async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(`${app.url}/m/#/me`);
  await page.getByRole('button', { name: '支付宝授权登录' }).click();
  await consentAs(page, 'demo-sesame-580');
  await page.getByRole('button', { name: '用芝麻信用检查（支付宝授权）' }).click();
  await consentAs(page, 'demo-sesame-580');
  await page.getByText(/信用分未达标（.*580.*），可交押金借书。/).first().waitFor();
  await page.getByText('您的信用分暂未达到免押金标准。', { exact: false }).waitFor();
  await page.getByRole('button', { name: '交押金借书' }).click();
  await page.getByText('押金 ¥100.00：待支付').waitFor();
  await checked(page, 'reader-deposit');
  assert.deepEqual(problems, []);
  await context.close();
});

test('a Sesame reader asks for door delivery, is shown the fee to pay in Alipay, and cancels the order', async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(`${app.url}/m/#/record/3`);
  await page.getByRole('button', { name: '借这本书' }).click();
  await page.getByRole('link', { name: '去登录' }).click();
  await page.getByRole('button', { name: '支付宝授权登录' }).click();
  await consentAs(page, 'demo-sesame-720');
  // Signed in before by the first test: the Sesame decision is still trusted.
  await page.getByRole('radio', { name: /送书上门/ }).check();
  await page.getByLabel('送书地址').fill('杭州市上城区庆春路521号 3 单元 502');
  await page.getByRole('button', { name: '提交订单（1 种）' }).click();
  await page.waitForURL(/#\/order\/\d+$/);
  await page.getByText(/请在 .* 前支付配送费 ¥5\.00，否则订单将自动取消。/).waitFor();
  await page.getByText('请在支付宝中打开本页面完成支付；支付成功后这里会自动更新。').waitFor();
  await page.locator('.timeline li.current', { hasText: '已付配送费' }).waitFor();
  await checked(page, 'reader-door-fee');
  await page.getByRole('button', { name: '取消订单' }).click();
  await page.getByRole('button', { name: '确认取消' }).click();
  await page.getByText('已取消').first().waitFor();
  assert.equal(await page.getByRole('button', { name: '取消订单' }).count(), 0);
  await checked(page, 'reader-door-cancelled');
  assert.deepEqual(problems, []);
  await context.close();
});

test(`the first load on Fast 3G takes under ${FIRST_LOAD_BUDGET_MS} ms`, async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', FAST_3G);
  const bytes = { total: 0 };
  cdp.on('Network.loadingFinished', (event) => { bytes.total += event.encodedDataLength; });
  const started = Date.now();
  await page.goto(`${app.url}/m/`, { waitUntil: 'load' });
  await page.getByLabel('书名、作者、拼音或 ISBN').waitFor();
  const elapsed = Date.now() - started;
  console.log(`first load on Fast 3G: ${elapsed} ms, ${bytes.total} bytes over the wire`);
  assert.ok(elapsed < FIRST_LOAD_BUDGET_MS, `first load took ${elapsed} ms`);
  await context.close();
});
