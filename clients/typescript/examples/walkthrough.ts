/**
 * The README walkthrough through the typed client, against `cargo run -p
 * portal-local`: register → ID documents → order → (staff approve) → services
 * → cancel. Exits non-zero at the first step that does not go as documented.
 *
 *   PORTAL_API=http://127.0.0.1:3000 PORTAL_ORG=http://127.0.0.1:8081 npm run example
 */
import assert from "node:assert/strict";

import { createPortalClient, ProblemError } from "../src/index.js";

const api = process.env.PORTAL_API ?? "http://127.0.0.1:3000";
const org = `${process.env.PORTAL_ORG ?? "http://127.0.0.1:8081"}/services/data/v62.0`;
const staff = process.env.PORTAL_ORG_TOKEN ?? "local-admin";

/** A login from portal-local's stand-in identity provider (not part of the API). */
async function login(sub: string, email: string): Promise<string> {
  const response = await fetch(`${api}/_local/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ sub, email }),
  });
  assert.equal(response.status, 200, "portal-local issues a token");
  return ((await response.json()) as { token: string }).token;
}

/** Today in Tokyo, `YYYY-MM-DD` (the portal's timezone). */
function todayInTokyo(): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Tokyo" }).format(new Date());
}

const step = (text: string) => console.log(`\n== ${text}`);

async function main(): Promise<void> {
  const sub = `walkthrough-${Date.now()}`;
  const email = `${sub}@example.jp`;
  const token = await login(sub, email);
  const portal = createPortalClient({ baseUrl: api, token });

  step("1. Register (links this login: the same token works everywhere from now on)");
  const registered = await portal.register({ firstName: "Hanako", lastName: "Yamada", phone: "+81 3-1234-5678" });
  console.log(registered);

  step("2. What can be ordered");
  const account = await portal.account();
  for (const entry of account.orderable) {
    console.log(`${entry.commodityType}: ${entry.canOrder ? "yes" : `no (${entry.reason?.code})`}`);
  }
  assert.equal(account.orderable.find((o) => o.commodityType === "SIM")?.canOrder, true);

  step("3. ID documents (a PNG, checked by its bytes)");
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
  const verification = await portal.submitIdVerification({
    documentType: "residence_card",
    documents: [{ fileName: "residence-card.png", content: png }],
  });
  console.log(verification);
  assert.equal(verification.documents.length, 1);
  const refused = await portal
    .submitIdVerification({
      documentType: "passport",
      documents: [{ fileName: "passport.jpg", content: new Uint8Array([0x4d, 0x5a, 0x90, 0]) }],
    })
    .then(() => undefined, (error: unknown) => error);
  assert.ok(refused instanceof ProblemError, "a program renamed .jpg is refused");
  assert.equal(refused.status, 422);
  assert.equal(refused.problem.errors?.[0]?.field, "documents[0]");
  console.log(`refused: ${refused.message}`);

  step("4. Order a SIM plan");
  const catalog = await portal.catalog();
  const plan = catalog.products.find((p) => p.family === "SIM" && p.itemClass === "Service");
  assert.ok(plan, "the catalog has a SIM plan");
  const placed = await portal.placeOrder({ commodityType: "SIM", items: [{ productId: plan.productId, quantity: 1 }] });
  console.log(placed);

  step("5. Staff approve the order (plain Salesforce REST)");
  const approved = await fetch(`${org}/sobjects/Order/${placed.orderId}`, {
    method: "PATCH",
    headers: { Authorization: `Bearer ${staff}`, "Content-Type": "application/json" },
    body: JSON.stringify({ Status: "Approved" }),
  });
  assert.equal(approved.status, 204, "staff approve the order");

  step("6. My services, once provisioned");
  let serviceId: number | undefined;
  for (let i = 0; i < 60 && serviceId === undefined; i++) {
    serviceId = (await portal.order(placed.orderId)).serviceId;
    if (serviceId === undefined) await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(serviceId !== undefined, "the order is provisioned within 30 s");
  const { services } = await portal.services();
  console.log(services);
  const service = services.find((s) => s.serviceId === serviceId);
  assert.ok(service, "GET /services lists it");
  assert.equal(service.stage, "Active");

  step("7. Cancel it");
  const cancelled = await portal.requestCancellation({ serviceId: service.serviceId, cancellationDate: todayInTokyo() });
  console.log(cancelled);
  const after = await portal.services();
  assert.equal(after.services.find((s) => s.serviceId === serviceId)?.stage, "△Cancelling");
  console.log("\nwalkthrough: register → services → cancel done");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
