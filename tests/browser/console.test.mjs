// The staff console in Chromium, on the demo library: a reader orders a
// book through the API; staff sign in and run the whole line from the screens
// (pick, pack, dispatch, arrival, hand-over by virtual card, return); an
// operator's dashboard shows the figures the API reports; the operations
// screens render. No console errors, no accessibility violations.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { axe, launchBrowser, shot, startApp, watchProblems } from './harness.mjs';

const PASSWORD = 'wangjie-demo';

describe('staff console', () => {
  let app;
  let browser;
  let page;
  let problems;
  let reader;
  let order;

  before(async () => {
    app = await startApp({ records: 2000, historyDays: 30 });
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN' });
    page = await context.newPage();
    problems = watchProblems(page);

    const signedIn = await fetch(`${app.url}/api/session/alipay`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ auth_code: 'demo-sesame-720' }),
    }).then((r) => r.json());
    reader = { token: signedIn.token };
    await app.as(reader.token, 'POST', '/api/me/credit', { source: 'sesame', auth_code: 'demo-sesame-720' });
    reader.card = (await app.as(reader.token, 'POST', '/api/me/card')).card_number;
    // The demo's history has most classics out on loan: the test's own
    // title, one copy at B002, collected at B001, travels between points.
    const csv = 'record_id,title,responsibility,call_number,barcode,branch\nCONSOLE-1,控制台测试之书,测试者著,I247/1,CT-0001,B002\n';
    const imported = await fetch(`${app.url}/admin/catalogue/import?format=csv`, {
      method: 'POST', headers: { Authorization: `Bearer ${app.adminToken}`, 'Content-Type': 'text/csv' }, body: csv,
    }).then((r) => r.json());
    assert.equal(imported.imported, 1, JSON.stringify(imported));
    const found = await app.as(reader.token, 'GET', `/api/search?q=${encodeURIComponent('控制台测试之书')}`);
    const record = found.hits[0];
    const response = await fetch(`${app.url}/api/orders`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${reader.token}`, 'Content-Type': 'application/json', 'Idempotency-Key': 'console-1' },
      body: JSON.stringify({ lines: [record.id], fulfilment: { kind: 'pickup', point_code: 'B001' } }),
    });
    order = await response.json();
    assert.equal(response.status, 201, JSON.stringify(order));
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  async function staffAt(point, role) {
    const { staff } = await app.admin('GET', `/admin/staff?point=${point}`);
    const member = role ? staff.find((s) => s.role === role) : staff[0];
    assert.ok(member, `staff at ${point}`);
    return member;
  }

  async function signIn(member) {
    await page.goto(`${app.url}/console/`);
    if (await page.locator('[data-testid=who]').count()) {
      await page.getByRole('button', { name: '退出登录' }).click();
    }
    await page.locator('#staff-no').fill(member.staff_no);
    await page.locator('#secret').fill(PASSWORD);
    await page.getByRole('button', { name: '登录' }).click();
    await page.locator('[data-testid=who]').waitFor();
  }

  async function scan(code) {
    await page.locator('#scan').fill(code);
    await page.locator('#scan').press('Enter');
  }

  async function expectStatus(pattern) {
    await page.locator('.scan.ok .scan-status').filter({ hasText: pattern }).waitFor();
  }

  it('loads small: the sign-in screen, as transferred, on a cold cache', async () => {
    const fresh = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const cold = await fresh.newPage();
    const cdp = await fresh.newCDPSession(cold);
    await cdp.send('Network.enable');
    let bytes = 0;
    cdp.on('Network.loadingFinished', (event) => { bytes += event.encodedDataLength; });
    const started = Date.now();
    await cold.goto(`${app.url}/console/`, { waitUntil: 'load' });
    await cold.locator('#staff-no').waitFor();
    const ms = Date.now() - started;
    console.log(`# console first load: ${(bytes / 1024).toFixed(1)} KiB transferred (brotli), ${ms} ms to the sign-in form`);
    assert.ok(bytes < 120 * 1024, `first load ${bytes} bytes`);
    await fresh.close();
  });

  it('refuses a wrong password and says so', async () => {
    const member = await staffAt('B001');
    await page.goto(`${app.url}/console/`);
    await shot(page, 'console-sign-in');
    assert.deepEqual(await axe(page), []);
    await page.locator('#staff-no').fill(member.staff_no);
    await page.locator('#secret').fill('not-the-password');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('alert').filter({ hasText: '工号或密码不正确' }).waitFor();
  });

  it('picks the order at its branch by scanning, keeping focus in the scan field', async () => {
    const line = order.lines[0];
    await signIn(await staffAt(line.pick_point));
    await page.goto(`${app.url}/console/#/pick`);
    const left = page.locator('[data-testid=left]');
    await left.filter({ hasText: /待拣 [1-9]/ }).waitFor();
    const before = Number((await left.textContent()).match(/\d+/)[0]);
    await shot(page, 'console-pick');
    assert.deepEqual(await axe(page), []);
    // A click elsewhere does not take the scanner's focus away.
    await page.locator('h1').click();
    await page.waitForFunction(() => document.activeElement?.id === 'scan');
    await scan('NO-SUCH-COPY');
    await page.locator('.scan.bad').waitFor();
    await scan(line.copy_barcode);
    await expectStatus('已拣');
    await left.filter({ hasText: `待拣 ${before - 1}` }).waitFor();
  });

  it('packs and dispatches the parcel, then prints its label', async () => {
    const packer = await staffAt(order.parcel_point);
    await signIn(packer);
    await page.goto(`${app.url}/console/#/parcel`);
    await page.locator('[data-testid=left]').filter({ hasText: /待发运 [1-9]/ }).waitFor();
    await scan(order.lines[0].copy_barcode);
    await expectStatus('已装齐并打包');
    await shot(page, 'console-parcel');
    await page.locator('[data-testid=dispatch]').click();
    const label = page.locator('[data-testid=label]');
    await label.waitFor();
    assert.match(await label.textContent(), new RegExp(`订单 ${order.id}`));
    assert.match(await label.textContent(), /B001/);
    await page.locator('[data-testid=label] img').waitFor();
    await shot(page, 'console-label');
  });

  it('receives the parcel at the pickup branch and hands it over by virtual card', async () => {
    await signIn(await staffAt('B001'));
    await page.goto(`${app.url}/console/#/arrive`);
    await page.locator('[data-testid=left]').filter({ hasText: /待处理 [1-9]/ }).waitFor();
    await scan(`WJO:${order.id}`);
    await expectStatus('已到馆上架');
    await page.goto(`${app.url}/console/#/hand`);
    await scan(reader.card);
    await expectStatus('1 单可取');
    await shot(page, 'console-hand-over');
    await page.locator(`[data-testid=hand-over-${order.id}]`).click();
    await page.locator(`[data-testid=hand-over-${order.id}]`).waitFor({ state: 'detached' });
    const loans = await app.as(reader.token, 'GET', '/api/me/loans');
    assert.ok(loans.loans.some((l) => l.copy_barcode === order.lines[0].copy_barcode), JSON.stringify(loans));
  });

  it('lets a librarian decide a purchase suggestion', async () => {
    const proposed = await app.as(reader.token, 'POST', '/api/me/suggestions', {
      title: '浏览器里的图书馆', author: '测试者', point_code: 'B001',
    });
    await page.goto(`${app.url}/console/#/suggest`);
    const card = page.locator(`[data-suggestion="${proposed.id}"]`);
    await card.waitFor();
    await shot(page, 'console-suggestions');
    await card.getByLabel('价格 (¥)').fill('45.50');
    await card.getByRole('button', { name: '批准采购' }).click();
    await page.getByRole('status').filter({ hasText: '已批准采购' }).waitFor();
    const mine = await app.as(reader.token, 'GET', '/api/me/suggestions');
    const decided = mine.suggestions.find((s) => s.id === proposed.id);
    assert.equal(decided.state, 'approved');
    assert.equal(decided.price_fen, 4550);
  });

  it('takes the book back at the counter and marks it damaged', async () => {
    const barcode = order.lines[0].copy_barcode;
    await page.goto(`${app.url}/console/#/returns`);
    await scan(barcode);
    await expectStatus('归还成功');
    await page.getByRole('button', { name: '登记损坏' }).click();
    await page.locator(`[data-returned="${barcode}"]`).filter({ hasText: '读者需赔偿' }).waitFor();
    await shot(page, 'console-returns');
    const owed = await app.as(reader.token, 'GET', '/api/me/compensations');
    assert.equal(owed.compensations.length, 1, JSON.stringify(owed));
  });

  it("shows the operator's dashboard with the figures the API reports", async () => {
    await signIn(await staffAt('DC01', 'operator').catch(async () => staffAt('B001', 'operator')));
    await page.goto(`${app.url}/console/#/dashboard`);
    await page.locator('[data-chart] canvas').first().waitFor();
    assert.equal(await page.locator('[data-chart]').count(), 8);
    const from = await page.locator('input[type=date]').first().inputValue();
    const to = await page.locator('input[type=date]').nth(1).inputValue();
    const stats = await app.admin('GET', `/admin/stats?from=${from}&to=${to}`);
    const loans = stats.days.reduce((n, d) => n + d.loans, 0);
    await page.locator('[data-figure=loans]').filter({ hasText: String(loans) }).waitFor();
    assert.ok(loans > 0, 'the demo history has loans');
    await page.waitForTimeout(500);
    await shot(page, 'console-dashboard');
  });

  it('renders the operations screens', async () => {
    for (const screen of ['lockers', 'jobs', 'notices']) {
      await page.goto(`${app.url}/console/#/${screen}`);
      await page.locator('table.list, .empty').first().waitFor();
      await shot(page, `console-${screen}`);
    }
    await page.goto(`${app.url}/console/#/import`);
    const csv = 'record_id,title,call_number,barcode,branch\nWEB-1,浏览器导入之书,I247/9,WEB-1-1,B001\nWEB-2,,I247/9,WEB-2-1,B001\n';
    await page.locator('input[type=file]').setInputFiles({ name: 'books.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: '开始导入' }).click();
    const result = page.locator('[data-testid=import-result]');
    await result.waitFor();
    await page.locator('table.list tbody tr').first().waitFor();
    assert.equal(await page.locator('table.list tbody tr').count(), 1, 'one rejected record listed');
    await shot(page, 'console-import');
  });

  it('showed no console errors', () => {
    assert.deepEqual(problems, []);
  });
});
