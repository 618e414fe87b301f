// The journeys of the product brief, walked in a real Chromium against the real release binary,
// finding things by label, role and text. Every page visited is audited with axe-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { startAccord, signIn, audit, shoot, shotDir, checkPhone, skippedHeadings, INBOUND_SECRET } from './support.mjs';

const DANA = 'dana.whitfield@accord.example';
const SAM = 'sam.okafor@accord.example';
const LEE = 'lee.park@accord.example';
const RAVI = 'ravi.menon@accord.example';
const ELENA = 'elena.vasquez@accord.example';
const MORGAN = 'morgan.blake@accord.example';
const CONTACT = 'maria.lopez@contoso-freight.example';

let app;
let room; // the room Lee opens; later journeys work in it
const pages = {};

before(async () => {
  app = await startAccord();
});

after(async () => {
  await app?.stop();
});

/** Fails on serious or critical accessibility problems of the current page, at laptop and phone
 *  width, and on a page that scrolls sideways on a phone. */
async function accessible(page) {
  const problems = await audit(page);
  assert.deepEqual(problems, [], problems.join('\n'));
  if (page.viewportSize().width > 360) {
    await checkPhone(page);
  }
}

async function visit(page, path) {
  const response = await page.goto(`${app.base}${path}`);
  await accessible(page);
  return response;
}

async function as(email, options) {
  pages[email] ??= await signIn(app, email, options);
  return pages[email];
}

test('a partner opens an escalation from the form', async () => {
  const lee = await as(LEE);
  await visit(lee, '/');
  await shoot(lee, 'dashboard');
  await lee.getByRole('link', { name: 'Open an escalation' }).first().click();
  await accessible(lee);
  await shoot(lee, 'open-escalation');
  await lee.getByLabel('Customer', { exact: true }).selectOption({ label: 'A new customer (fill in below)' });
  await lee.getByLabel("New customer's name").fill('Contoso Freight');
  await lee.getByLabel("New customer's email domain (optional)").fill('contoso-freight.example');
  await lee.getByLabel('Title', { exact: true }).fill('Shipments vanish from the capacity dashboard');
  await lee.getByLabel("Problem statement, in the customer's words").fill('Maria says half of yesterday\'s shipments are missing from the dashboard.');
  await lee.getByLabel(/S1 critical/).check();
  await lee.getByLabel('Escalated by').selectOption({ label: 'A new contact (fill in below)' });
  await lee.getByLabel("New contact's name").fill('Maria Lopez');
  await lee.getByLabel('Their email').fill(CONTACT);
  await lee.getByLabel('Their title (optional)').fill('Head of logistics IT');
  await lee.getByLabel(/^Partner \(sales engineer/).check();
  const pms = lee.getByRole('group', { name: 'Product managers' });
  await pms.getByLabel(/Dana Whitfield/).check();
  await pms.getByLabel(/Sam Okafor/).check();
  // The leadership list is searched as one types (htmx), the typed text and focus kept.
  const find = lee.getByLabel('Find leadership (read only)');
  await find.pressSequentially('vasq');
  const leadership = lee.getByRole('group', { name: 'Leadership (read only)' });
  await assert.doesNotReject(leadership.getByText('Nobody else matches').or(leadership.getByLabel(/Elena Vasquez/)).first().waitFor());
  await lee.waitForFunction(() => document.querySelectorAll('fieldset.pick')[2]?.querySelectorAll('.pick-results li').length === 1);
  assert.equal(await lee.getByLabel('Find leadership (read only)').inputValue(), 'vasq');
  assert.equal(await lee.evaluate(() => document.activeElement?.id), 'find_leadership', 'focus stays in the search');
  await leadership.getByLabel(/Elena Vasquez/).check();
  // Picked people are kept when the lists are searched again.
  assert.equal(await pms.getByLabel(/Dana Whitfield/).isChecked(), true);
  await lee.getByLabel('Lead', { exact: true }).selectOption({ label: 'Dana Whitfield' });
  await lee.getByLabel(/^Communicator/).selectOption({ label: 'Sam Okafor' });
  await lee.getByRole('button', { name: 'Open the room' }).click();
  await lee.waitForURL(/\/rooms\/\d+$/);
  room = Number(new URL(lee.url()).pathname.split('/')[2]);
  await accessible(lee);
  await assert.doesNotReject(lee.getByRole('heading', { name: 'Shipments vanish from the capacity dashboard' }).waitFor());
  const owner = lee.getByRole('region', { name: 'Owns this' });
  await assert.doesNotReject(owner.getByText('Dana Whitfield').waitFor());
  await assert.doesNotReject(lee.getByRole('region', { name: 'Speaks to the customer' }).getByText('Sam Okafor').waitFor());
});

test('two PMs split the work and agree who decides what', async () => {
  const dana = await as(DANA);
  const sam = await as(SAM);
  await visit(dana, `/rooms/${room}`);
  await dana.getByRole('link', { name: 'Add workstream' }).click();
  await accessible(dana);
  await dana.getByLabel('Title', { exact: true }).fill('Find the missing shipments in telemetry');
  await dana.getByRole('button', { name: 'Add workstream' }).click();
  await visit(sam, `/rooms/${room}/workstreams/new`);
  await sam.getByLabel('Title', { exact: true }).fill('Keep Maria informed');
  await sam.getByLabel('Next step').fill('Call Maria with what we know');
  await sam.getByRole('button', { name: 'Add workstream' }).click();
  await visit(dana, `/rooms/${room}/decision-types`);
  await shoot(dana, 'decision-types');
  await dana.getByLabel('Owner of Commercial').selectOption({ label: 'Sam Okafor' });
  await dana.getByRole('button', { name: 'Save Commercial' }).click();
  await visit(dana, `/rooms/${room}`);
  const decides = dana.getByRole('region', { name: 'Decides what' });
  await assert.doesNotReject(decides.getByText('Sam Okafor').first().waitFor());
  const workstreams = dana.getByRole('region', { name: 'Workstreams' });
  await assert.doesNotReject(workstreams.getByText('Keep Maria informed', { exact: true }).first().waitFor());
  await assert.doesNotReject(workstreams.getByText('Find the missing shipments in telemetry', { exact: true }).first().waitFor());
  await shoot(dana, 'room');
  await visit(dana, `/rooms/${room}/members`);
  await shoot(dana, 'members');
});

test('a change in one browser appears in another without a reload, and a half-filled form stays', async () => {
  const elena = await as(ELENA);
  const sam = await as(SAM);
  const dana = await as(DANA);
  await visit(elena, `/rooms/${room}`);
  // Dana is half-way through setting herself away when Sam logs a touch: only the parts of her
  // page that changed are swapped, so her open form keeps what she chose.
  await visit(dana, `/rooms/${room}`);
  await dana.getByText('Going away?').click();
  const standIn = dana.getByLabel('Stand-in (aligns or objects for you)');
  await standIn.selectOption({ index: 1 });
  const chosen = await standIn.inputValue();
  assert.notEqual(chosen, '');
  await visit(sam, `/rooms/${room}/touches/new`);
  await shoot(sam, 'log-touch');
  await sam.getByLabel('Contact').selectOption({ label: 'Maria Lopez (Head of logistics IT)' });
  await sam.getByLabel('Call').check();
  await sam.getByLabel('What was discussed').fill('Told Maria we found the gap in the import job');
  await sam.getByRole('button', { name: 'Log touch' }).click();
  await assert.doesNotReject(elena.getByText('Told Maria we found the gap in the import job').first().waitFor({ timeout: 5000 }));
  await assert.doesNotReject(dana.getByText('Told Maria we found the gap in the import job').first().waitFor({ timeout: 5000 }));
  assert.equal(await standIn.inputValue(), chosen, 'the stand-in Dana chose is still chosen');
  assert.equal(await dana.locator('details.away-form').evaluate((d) => d.open), true, 'her form is still open');
  await accessible(dana);
});

test('the duplicate-question warning shows what the other PM already asked', async () => {
  const dana = await as(DANA);
  const sam = await as(SAM);
  await visit(dana, `/rooms/${room}/questions/new`);
  await dana.getByLabel('Question').fill('When do you plan to buy more capacity?');
  await dana.getByLabel('Who is it for?').selectOption({ label: 'Maria Lopez (Head of logistics IT)' });
  await dana.getByRole('button', { name: 'Record question' }).click();
  await dana.waitForURL(/#questions$/);
  await visit(sam, `/rooms/${room}/questions/new`);
  await sam.getByLabel('Question').pressSequentially('When are you planning to order more capacity?');
  const warning = sam.getByText('Already asked?');
  await assert.doesNotReject(warning.waitFor({ timeout: 5000 }));
  await assert.doesNotReject(sam.getByText('Asked by Dana Whitfield', { exact: false }).waitFor());
  await accessible(sam);
  await shoot(sam, 'question-similar');
});

test('one voice: blocked until aligned, stale after an edit, paused, then sent once — with the keyboard', async () => {
  const sam = await as(SAM);
  const dana = await as(DANA);
  await visit(sam, `/rooms/${room}/drafts/new`);
  await shoot(sam, 'draft-form');
  await sam.getByRole('group', { name: 'To' }).getByLabel(/Maria Lopez/).check();
  await sam.getByLabel('Subject').fill('What happened to your shipments');
  await sam.getByLabel(/^Message/).fill('Hello Maria,\n\nWe found the gap in the import job and are fixing it today.\n\nSam');
  await sam.getByRole('button', { name: 'Save draft' }).click();
  await sam.waitForURL(/\/drafts\/\d+$/);
  const draftPath = new URL(sam.url()).pathname;
  await accessible(sam);
  await assert.doesNotReject(sam.getByText('Dana Whitfield has not aligned on the current revision').waitFor());
  assert.equal(await sam.getByRole('button', { name: 'Send to the customer' }).isDisabled(), true);
  await shoot(sam, 'draft-blocked');

  // Sam keeps the draft open; Dana aligns in her browser; Sam's page follows within 2 s.
  await visit(dana, draftPath);
  const before = sam.url();
  await dana.getByRole('button', { name: 'Align on revision 1' }).click();
  const aligned = Date.now();
  await assert.doesNotReject(sam.getByText('Every PM aligned on this revision').waitFor({ timeout: 2500 }));
  assert.ok(Date.now() - aligned <= 2500, 'the draft page changed state within 2 s');
  assert.equal(sam.url(), before, 'without a reload');
  assert.equal(await sam.getByRole('button', { name: 'Send to the customer' }).isDisabled(), false);
  await accessible(sam);
  await shoot(sam, 'draft-ready');

  await visit(dana, `${draftPath}/edit`);
  await dana.getByLabel(/^Message/).fill('Hello Maria,\n\nWe found the gap in the import job; the fix ships tonight.\n\nSam');
  await dana.getByRole('button', { name: 'Save new revision' }).click();
  await visit(sam, draftPath);
  await assert.doesNotReject(sam.getByText('Sam Okafor aligned on revision 1, which has since been edited').waitFor());
  await sam.getByRole('link', { name: 'changes from 1' }).click();
  await accessible(sam);
  await shoot(sam, 'draft-diff');
  await visit(sam, draftPath);
  await sam.getByRole('button', { name: 'Align on revision 2' }).click();

  await visit(dana, `/rooms/${room}/pause`);
  await dana.getByLabel('Why').fill('Wait until the fix is live');
  await dana.getByRole('button', { name: 'Pause outreach' }).click();
  await visit(sam, draftPath);
  await assert.doesNotReject(sam.getByText('Outreach is paused by Dana Whitfield: Wait until the fix is live').first().waitFor());
  assert.equal(await sam.getByRole('button', { name: 'Send to the customer' }).isDisabled(), true);
  await shoot(sam, 'draft-paused');
  await visit(dana, `/rooms/${room}`);
  await dana.getByRole('button', { name: 'Resume outreach' }).click();

  // The send itself, with the keyboard alone.
  await visit(sam, draftPath);
  const send = sam.getByRole('button', { name: 'Send to the customer' });
  for (let i = 0; i < 80 && !(await send.evaluate((el) => el === document.activeElement)); i++) {
    await sam.keyboard.press('Tab');
  }
  assert.equal(await send.evaluate((el) => el === document.activeElement), true, 'the send button is reachable by Tab');
  await sam.keyboard.press('Enter');
  await sam.waitForURL((url) => url.pathname === draftPath);
  for (let i = 0; i < 100 && app.smtp.to(CONTACT).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(app.smtp.to(CONTACT).length, 1, 'exactly one message reaches the customer');
  assert.match(app.smtp.to(CONTACT)[0].data, /the fix ships tonight/);
});

test('leadership: an aligned update is published and a director reads and prints the pre-read', async () => {
  const dana = await as(DANA);
  const sam = await as(SAM);
  await visit(dana, `/rooms/${room}/updates/new`);
  await shoot(dana, 'update-form');
  await dana.getByLabel('At risk').check();
  await dana.getByLabel('Headline').fill('Missing shipments found; fix ships tonight');
  await dana.getByLabel('Asks of leadership').fill('None yet.');
  await dana.getByRole('button', { name: 'Save update' }).click();
  await dana.waitForURL(/\/updates\/\d+$/);
  const updatePath = new URL(dana.url()).pathname;
  await accessible(dana);
  await visit(sam, updatePath);
  await sam.getByRole('button', { name: 'Align on revision 1' }).click();
  await visit(dana, updatePath);
  await shoot(dana, 'update');
  assert.deepEqual(await skippedHeadings(dana), [], 'the update page keeps its heading order');
  await dana.getByRole('button', { name: 'Publish the pre-read' }).click();
  await dana.waitForURL(/\/pre-reads\/1$/);

  const elena = await as(ELENA);
  await visit(elena, '/pre-reads');
  await shoot(elena, 'pre-reads');
  await elena.getByRole('link', { name: 'Shipments vanish from the capacity dashboard' }).click();
  await accessible(elena);
  await assert.doesNotReject(elena.getByText('Missing shipments found; fix ships tonight').waitFor());
  await shoot(elena, 'pre-read');
  assert.deepEqual(await skippedHeadings(elena), [], 'the pre-read keeps its heading order');
  const pdf = join(shotDir, 'pre-read.pdf');
  await elena.pdf({ path: pdf, format: 'A4' });
  assert.ok(statSync(pdf).size > 10_000, 'the pre-read prints to a PDF');
  await elena.emulateMedia({ media: 'print' });
  assert.equal(await elena.locator('.topbar').isVisible(), false, 'no navigation in print');
  await elena.emulateMedia({ media: 'screen' });
});

test('someone who is not a member is refused', async () => {
  const ravi = await as(RAVI);
  const response = await visit(ravi, `/rooms/${room}`);
  assert.equal(response.status(), 404);
  await assert.doesNotReject(ravi.getByRole('heading', { name: 'Not found' }).waitFor());
  assert.equal(await ravi.getByText('Shipments vanish').count(), 0);
});

test('admin pages and sign-in are accessible', async () => {
  const morgan = await as(MORGAN);
  await visit(morgan, '/admin/users');
  await shoot(morgan, 'admin-people');
  await visit(morgan, '/admin/mail');
  await visit(morgan, '/customers');
  const anonymous = await (await app.browser.newContext({ bypassCSP: true })).newPage();
  await visit(anonymous, '/sign-in');
  await shoot(anonymous, 'sign-in');
});

test('an admin decides about an invitation whose delivery is unknown', async () => {
  const morgan = await as(MORGAN);
  await visit(morgan, '/admin/users');
  await morgan.getByLabel('Name', { exact: true }).fill('Sol Silent');
  await morgan.getByLabel('Email', { exact: true }).fill('silent.sol@example.com');
  await morgan.getByRole('button', { name: 'Send invitation' }).click();
  await morgan.getByText('Invitation to Sol Silent is on its way.').waitFor();
  let unknown = false;
  for (let i = 0; i < 50 && !unknown; i++) {
    await morgan.goto(`${app.base}/admin/mail`);
    unknown = (await morgan.getByText('Handed over, no answer').count()) > 0;
    if (!unknown) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.ok(unknown, 'the invitation became "delivery unknown"');
  await visit(morgan, '/admin/mail');
  await shoot(morgan, 'admin-mail-unknown');
  await morgan.getByRole('button', { name: /^Mark delivered ?: You are invited to Accord to silent\.sol@example\.com/ }).click();
  await morgan.getByText(/Decided by Morgan Blake/).waitFor();
  assert.equal(app.smtp.to('silent.sol@example.com').length, 1, 'nothing was sent again');
});

test('without JavaScript: open an escalation, align and send', async () => {
  const options = { javaScriptEnabled: false };
  const lee = await signIn(app, LEE, options);
  await lee.goto(`${app.base}/rooms/new`);
  await lee.getByLabel('Customer', { exact: true }).selectOption({ label: 'A new customer (fill in below)' });
  await lee.getByLabel("New customer's name").fill('Northwind Rail');
  await lee.getByLabel('Title', { exact: true }).fill('Rail yard sensors report stale capacity');
  await lee.getByLabel("Problem statement, in the customer's words").fill('Capacity numbers are a day old.');
  await lee.getByLabel('Escalated by').selectOption({ label: 'A new contact (fill in below)' });
  await lee.getByLabel("New contact's name").fill('Olu Bello');
  await lee.getByLabel('Their email').fill('olu.bello@northwind-rail.example');
  await lee.getByLabel(/^Partner \(sales engineer/).check();
  const pms = lee.getByRole('group', { name: 'Product managers' });
  await pms.getByLabel(/Dana Whitfield/).check();
  await pms.getByLabel(/Sam Okafor/).check();
  await lee.getByLabel(/^Communicator/).selectOption({ label: 'Sam Okafor' });
  await lee.getByRole('button', { name: 'Open the room' }).click();
  await lee.waitForURL(/\/rooms\/\d+$/);
  const railRoom = Number(new URL(lee.url()).pathname.split('/')[2]);

  const sam = await signIn(app, SAM, options);
  await sam.goto(`${app.base}/rooms/${railRoom}/drafts/new`);
  await sam.getByRole('group', { name: 'To' }).getByLabel(/Olu Bello/).check();
  await sam.getByLabel('Subject').fill('Your capacity numbers');
  await sam.getByLabel(/^Message/).fill('Hello Olu,\n\nWe are on it.\n\nSam');
  await sam.getByRole('button', { name: 'Save draft' }).click();
  await sam.waitForURL(/\/drafts\/\d+$/);
  const draftPath = new URL(sam.url()).pathname;

  const dana = await signIn(app, DANA, options);
  await dana.goto(`${app.base}${draftPath}`);
  await dana.getByRole('button', { name: 'Align on revision 1' }).click();
  await dana.waitForURL((url) => url.pathname === draftPath);
  await assert.doesNotReject(dana.getByText('Aligned on the current revision').first().waitFor());

  await sam.goto(`${app.base}${draftPath}`);
  await sam.getByRole('button', { name: 'Send to the customer' }).click();
  await sam.waitForURL((url) => url.pathname === draftPath);
  for (let i = 0; i < 100 && app.smtp.to('olu.bello@northwind-rail.example').length === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(app.smtp.to('olu.bello@northwind-rail.example').length, 1);
});

test('each person reads times in their own zone and sees what waits for them', async () => {
  const dana = await as(DANA);
  await visit(dana, '/');
  await assert.doesNotReject(dana.getByRole('heading', { name: /Needs you/ }).waitFor());
  await shoot(dana, 'dashboard');
  await dana.getByRole('link', { name: /Your settings/ }).click();
  await dana.waitForURL(/\/settings$/);
  await accessible(dana);
  await dana.getByLabel('Your time zone').selectOption('Europe/Berlin');
  await dana.getByRole('button', { name: 'Save', exact: true }).click();
  await assert.doesNotReject(dana.getByText('Times are shown and read in Europe/Berlin').waitFor());
  await shoot(dana, 'settings');
  await visit(dana, `/rooms/${room}`);
  assert.match(await dana.locator('#timeline').innerText(), /\b(CET|CEST)\b/, 'the timeline is in Berlin time');
  await visit(dana, `/rooms/${room}/workstreams/new`);
  await assert.doesNotReject(dana.getByLabel('Due (Europe/Berlin, optional)').waitFor());

  // The lead sets the room's cadence; a contact gets a time zone.
  await visit(dana, `/rooms/${room}/edit`);
  await dana.getByLabel('Customer updates').selectOption({ label: 'Every 8 hours' });
  await shoot(dana, 'room-edit');
  await dana.getByRole('button', { name: 'Save details' }).click();
  await dana.waitForURL(/\/rooms\/\d+$/);
  await visit(dana, `/rooms/${room}`);
  await dana.getByRole('link', { name: 'Contoso Freight' }).first().click();
  await accessible(dana);
  await dana.getByLabel('Name', { exact: true }).fill('Ken Ito');
  await dana.getByLabel('Email', { exact: true }).fill('ken.ito@contoso-freight.example');
  await dana.getByLabel('Time zone (optional)').selectOption('Asia/Tokyo');
  await dana.getByRole('button', { name: 'Add contact' }).click();
  await assert.doesNotReject(dana.getByRole('cell', { name: 'Asia/Tokyo' }).waitFor());
  await shoot(dana, 'customer');
});

test("the customer's reply is in the room, answers the ledger, and a stray one waits for an admin", async () => {
  const sam = await as(SAM);
  await visit(sam, '/');
  await sam.getByRole('link', { name: /Capacity monitoring does not say when to order hardware/ }).first().click();
  await sam.getByRole('heading', { name: 'Conversation' }).waitFor();
  await sam.getByText('From Jordan Reyes').waitFor();
  await accessible(sam);
  await sam.locator('#email').screenshot({ path: join(shotDir, 'room-conversation-laptop.png') });
  await sam.locator('#email').getByRole('link', { name: 'Re: Your capacity escalation: our plan' }).click();
  await sam.getByRole('heading', { name: 'Re: Your capacity escalation: our plan' }).waitFor();
  await sam.getByText('Quoted history').waitFor();
  await accessible(sam);
  await shoot(sam, 'customer-message');
  // The demo's reply already answered Dana's open question (Sam marked it).
  await sam.getByRole('link', { name: 'Which cluster grows fastest, and by how much a month?' }).waitFor();
  await sam.getByRole('link', { name: 'Reply', exact: true }).click();
  await sam.getByLabel('Subject').waitFor();
  assert.equal(await sam.getByLabel('Subject').inputValue(), 'Re: Your capacity escalation: our plan');
  await accessible(sam);

  const stray = [
    'From: Pat Unknown <pat@elsewhere.example>',
    'To: escalations@accord.example',
    'Subject: Is this the right place for my outage report?',
    'Message-ID: <stray-1@elsewhere.example>',
    '',
    'Our dashboards have been down since this morning.',
  ].join('\r\n');
  const posted = await fetch(`${app.base}/inbound/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${INBOUND_SECRET}`, 'content-type': 'message/rfc822' },
    body: stray,
  });
  assert.equal(posted.status, 202);
  const morgan = await as(MORGAN);
  await visit(morgan, '/admin/inbound');
  await morgan.getByText('Is this the right place for my outage report?').first().waitFor();
  await shoot(morgan, 'admin-inbound');
  await morgan.getByRole('button', { name: /^Discard ?: Is this the right place/ }).click();
  await morgan.getByText('Nothing waiting').waitFor();
});

test('a PM objects with a reason; the objection is escalated, ruled on, and the email goes out', async () => {
  const sam = await as(SAM);
  await visit(sam, '/');
  await sam.getByRole('link', { name: /Capacity monitoring does not say when to order hardware/ }).first().click();
  await sam.getByText('Away until').first().waitFor();
  await sam.locator('#email').getByRole('link', { name: 'A first look at your capacity forecast' }).click();
  const draftUrl = sam.url();
  await sam.getByText(/Dana Whitfield objects to revision 2/).first().waitFor();
  await accessible(sam);
  await shoot(sam, 'draft-objection');
  await sam.getByRole('button', { name: "Escalate Dana Whitfield's objection" }).click();
  await sam.getByRole('heading', { name: /A disagreement about revision 2/ }).waitFor();
  const escalationUrl = sam.url();
  await accessible(sam);

  const elena = await as(ELENA);
  await elena.goto(escalationUrl);
  await accessible(elena);
  await shoot(elena, 'escalation');
  await elena.getByLabel('Note for the team (optional)').fill('Send it; add the cluster caveat in the next email.');
  await elena.getByRole('button', { name: 'Go ahead with revision 2' }).click();
  await elena.getByText(/Settled by Elena Vasquez/).first().waitFor();

  await sam.goto(draftUrl);
  await sam.getByText(/Settled by Elena Vasquez/).first().waitFor();
  await sam.getByRole('button', { name: 'Send to the customer' }).click();
  await sam.waitForURL(draftUrl);
  for (let i = 0; i < 100 && app.smtp.to('jordan.reyes@northwind.example').length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(app.smtp.to('jordan.reyes@northwind.example').length, 1, 'the settled revision reaches Jordan once');
});

test('a call is planned, a teammate adds a question, the voice clears it and records the outcome', async () => {
  const lee = await as(LEE);
  await visit(lee, '/');
  await lee.getByRole('link', { name: /Capacity monitoring does not say when to order hardware/ }).first().click();
  const roomUrl = lee.url();
  await lee.getByText(/Lee Park asks to hold outreach/).first().waitFor();
  await lee.locator('#engagements').getByRole('link', { name: 'Plan one' }).click();
  await accessible(lee);
  await shoot(lee, 'engagement-plan');
  await lee.getByLabel('Call', { exact: true }).check();
  await lee.getByLabel('Topic').selectOption({ label: 'Customer experience and communication — Sam Okafor speaks' });
  await lee.getByLabel(/^Jordan Reyes/).uncheck();
  await lee.getByLabel(/^Priya Shah/).check();
  const ticked = lee.locator('input[name=questions]:checked');
  while ((await ticked.count()) > 0) await ticked.first().uncheck();
  // Starting now (Lee reads times in UTC): so that the outcome can be recorded in this journey.
  await lee.getByLabel('When (UTC)').fill(new Date().toISOString().slice(0, 16));
  await lee.getByLabel('Purpose').fill('Agree which telemetry exports Priya can share');
  await lee.getByRole('button', { name: 'Plan it' }).click();
  await lee.getByRole('heading', { name: 'Call with Priya Shah' }).waitFor();
  const engagementUrl = lee.url();
  await lee.getByText(/Only the topic's voice, Sam Okafor, or the communicator/).waitFor();
  await accessible(lee);

  // Dana adds her question to this call from her own browser instead of calling Priya herself.
  const dana = await as(DANA);
  await dana.goto(engagementUrl);
  await dana.getByLabel('Question', { exact: true }).fill('Can the exports include the storage tier of each volume?');
  await dana.getByRole('button', { name: 'Add my question' }).click();
  await dana.getByText('added by Dana Whitfield').waitFor();

  const sam = await as(SAM);
  await visit(sam, '/');
  await sam.getByRole('link', { name: /Clear or refuse a planned call about “Customer experience and communication”/ }).click();
  await sam.getByText('Can the exports include the storage tier of each volume?', { exact: true }).waitFor();
  await accessible(sam);
  await shoot(sam, 'engagement-clear');
  await sam.getByRole('button', { name: 'Clear this call' }).click();
  await sam.locator('.status-cleared').first().waitFor();
  for (let i = 0; i < 100 && app.smtp.to(LEE).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(app.smtp.to(LEE).some((m) => m.data.includes('text/calendar')), 'the planner gets the invitation');

  await sam.getByLabel('What came out of it').fill('Priya shares the exports weekly from Monday.');
  await sam.getByLabel(/Answer to “Can the exports include the storage tier/).fill('Yes, as a column per volume.');
  await sam.getByRole('button', { name: 'Record the outcome' }).click();
  await sam.getByText('Priya shares the exports weekly from Monday.').first().waitFor();
  await accessible(sam);
  await shoot(sam, 'engagement-done');

  await visit(dana, roomUrl.replace(app.base, ''));
  await dana.locator('#contacts').getByText(/Call about “Customer experience and communication”: Priya shares the exports/).waitFor();
  await dana.locator('#questions').getByText('Yes, as a column per volume.').waitFor();
});

test('the sync: the agenda is already there and the minutes update the room in one go', async () => {
  const dana = await as(DANA);
  await visit(dana, '/');
  await dana.getByRole('link', { name: /Capacity monitoring does not say when to order hardware/ }).first().click();
  await dana.getByRole('link', { name: 'Agenda' }).click();
  await dana.getByRole('heading', { name: 'Agenda' }).waitFor();
  await dana.getByText('Carried over').first().waitFor();
  await accessible(dana);
  await shoot(dana, 'sync');
  await dana.getByLabel(/Extend Northwind's premium support trial by 60 days/).check();
  await dana.getByLabel('Next steps').fill('Lee decides the trial after the call with Jordan.');
  await dana.getByRole('button', { name: 'Record the minutes' }).click();
  await dana.locator('#past').getByText('Next steps: Lee decides the trial after the call with Jordan.').waitFor();
  await accessible(dana);
});

test('a director reads across escalations where decisions stall and who speaks to whom', async () => {
  const elena = await as(ELENA);
  await visit(elena, '/pre-reads');
  await elena.getByRole('link', { name: 'Insights' }).click();
  await elena.getByRole('heading', { name: 'How the teams coordinated' }).waitFor();
  await elena.getByRole('img', { name: 'Voices to each contact (the goal is one)' }).waitFor();
  await accessible(elena);
  await shoot(elena, 'insights');

  // From a closed room in the table to its retrospective, frozen at close.
  await elena.getByRole('link', { name: 'The weekly capacity report times out for large clusters' }).click();
  await elena.getByRole('link', { name: 'Read the retrospective' }).click();
  await elena.getByRole('heading', { name: 'How the team coordinated' }).waitFor();
  await elena.getByRole('heading', { name: 'What went well' }).waitFor();
  await accessible(elena);
  await shoot(elena, 'retrospective');
});

test('a PM signs in with single sign-on, creates an API token, and an admin registers a webhook', async () => {
  const context = await app.browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${app.base}/sign-in`);
  await accessible(page);
  await shoot(page, 'sign-in-sso');
  await page.getByRole('link', { name: 'Sign in with Example SSO' }).click();
  // The provider's own login form (not Accord's page).
  await page.locator('input[name=login]').fill(DANA);
  await page.locator('input[name=password]').fill('anything');
  await page.locator('button[type=submit]').click();
  await page.waitForURL(`${app.base}/`);
  await page.getByRole('heading', { name: 'Needs you' }).waitFor();

  await visit(page, '/settings');
  await page.getByRole('link', { name: 'Manage your API tokens' }).click();
  await page.getByLabel('Name').fill('Helpdesk integration');
  await page.getByLabel('Read and write').check();
  await page.getByRole('button', { name: 'Create the token' }).click();
  await page.getByRole('heading', { name: 'Your new token' }).waitFor();
  const token = await page.getByRole('textbox', { name: 'New token' }).inputValue();
  assert.match(token, /^accord_[0-9a-f]{64}$/);
  await accessible(page);
  await shoot(page, 'api-tokens');
  const rooms = await fetch(`${app.base}/api/v1/rooms`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(rooms.status, 200);
  assert.ok((await rooms.json()).rooms.length > 0, 'the token reads Dana\'s rooms');
  await context.close();

  const morgan = await as(MORGAN);
  await visit(morgan, '/admin/webhooks');
  await morgan.getByLabel('Address').fill('https://hooks.example.com/accord');
  await morgan.getByLabel(/room\.opened/).check();
  await morgan.getByLabel(/send\.blocked/).check();
  await morgan.getByRole('button', { name: 'Register' }).click();
  await morgan.getByRole('heading', { name: 'Endpoint registered' }).waitFor();
  assert.match(await morgan.getByRole('textbox', { name: 'Signing secret' }).inputValue(), /^whsec_/);
  await accessible(morgan);
  await shoot(morgan, 'webhooks');
  await visit(morgan, '/admin/tokens');
  await morgan.getByRole('button', { name: 'Revoke Helpdesk integration' }).waitFor();
  await shoot(morgan, 'admin-tokens');
});
