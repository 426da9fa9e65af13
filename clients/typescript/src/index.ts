/**
 * A small typed wrapper over the portal API: the request and response types
 * are generated from `functions/http/openapi.json` into `schema.ts` by
 * openapi-typescript (`npm run generate`), the calls go through openapi-fetch.
 *
 * Every POST carries an `Idempotency-Key` (the API refuses one without): pass
 * `idempotencyKey` to retry a request you meant once with the same key, or
 * let the client make a fresh UUID. Errors are thrown as {@link ProblemError}
 * with the API's `application/problem+json` body.
 */
import createClient from "openapi-fetch";

import type { components, paths } from "./schema.js";

export type { components, paths } from "./schema.js";

/** Every schema of the API, by name (`Schemas["Account"]`, …). */
export type Schemas = components["schemas"];
/** An RFC 9457 problem body. */
export type Problem = Schemas["Problem"];

/** A failed call: the status and the API's problem body. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(`${status} ${problem.title}: ${problem.detail}`);
    this.name = "ProblemError";
  }

  /** The problem's code, e.g. `validation-failed` (after `urn:portal:problem:`). */
  get code(): string {
    return this.problem.type.replace(/^urn:portal:problem:/, "");
  }
}

/** How to reach the API. */
export interface PortalClientOptions {
  /** E.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  /** The bearer token, or a function returning the current one. */
  token?: string | (() => string | undefined);
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof globalThis.fetch;
}

/** Per-request options of a POST. */
export interface PostOptions {
  /** The request's `Idempotency-Key`; a fresh UUID when not given. */
  idempotencyKey?: string;
}

/** One file of an ID verification. */
export interface DocumentFile {
  fileName: string;
  content: Blob | Uint8Array<ArrayBuffer>;
}

/** The form of `POST /id-verifications`. */
export interface IdVerificationInput {
  documentType: Schemas["IdVerificationRequest"]["documentType"];
  notes?: string;
  /** 1 or 2 files: JPEG, PNG or PDF, each at most 4 MiB. */
  documents: DocumentFile[];
}

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

function unwrap<T>(result: Result<T>): T {
  if (result.error !== undefined || result.data === undefined) {
    throw new ProblemError(result.response.status, result.error as Problem);
  }
  return result.data;
}

function key(options?: PostOptions): { "Idempotency-Key": string } {
  return { "Idempotency-Key": options?.idempotencyKey ?? crypto.randomUUID() };
}

/** The API's routes as typed methods. */
export function createPortalClient(options: PortalClientOptions) {
  const client = createClient<paths>({ baseUrl: options.baseUrl, fetch: options.fetch });
  client.use({
    onRequest({ request }) {
      const token = typeof options.token === "function" ? options.token() : options.token;
      if (token !== undefined && !request.headers.has("Authorization")) {
        request.headers.set("Authorization", `Bearer ${token}`);
      }
      return request;
    },
  });
  return {
    /** The openapi-fetch client, for anything the methods below do not cover. */
    raw: client,
    health: async () => unwrap(await client.GET("/health")),
    register: async (body: Schemas["RegistrationRequest"], o?: PostOptions) =>
      unwrap(await client.POST("/registrations", { params: { header: key(o) }, body })),
    account: async () => unwrap(await client.GET("/account")),
    requestEligibility: async (body: Schemas["EligibilityRequest"], o?: PostOptions) =>
      unwrap(await client.POST("/eligibility-requests", { params: { header: key(o) }, body })),
    submitIdVerification: async (input: IdVerificationInput, o?: PostOptions) => {
      const form = new FormData();
      form.append("documentType", input.documentType);
      if (input.notes !== undefined) form.append("notes", input.notes);
      for (const file of input.documents) {
        const blob = file.content instanceof Blob ? file.content : new Blob([file.content]);
        form.append("documents", blob, file.fileName);
      }
      return unwrap(
        await client.POST("/id-verifications", {
          params: { header: key(o) },
          // The typed body says what the form holds; the form is what is sent.
          body: { documentType: input.documentType, notes: input.notes, documents: [] },
          bodySerializer: () => form,
        }),
      );
    },
    catalog: async () => unwrap(await client.GET("/catalog")),
    placeOrder: async (body: Schemas["OrderRequest"], o?: PostOptions) =>
      unwrap(await client.POST("/orders", { params: { header: key(o) }, body })),
    orders: async () => unwrap(await client.GET("/orders")),
    order: async (orderId: string) =>
      unwrap(await client.GET("/orders/{orderId}", { params: { path: { orderId } } })),
    services: async () => unwrap(await client.GET("/services")),
    requestCancellation: async (body: Schemas["CancellationRequest"], o?: PostOptions) =>
      unwrap(await client.POST("/cancellations", { params: { header: key(o) }, body })),
    openSupportCase: async (body: Schemas["SupportCaseRequest"], o?: PostOptions) =>
      unwrap(await client.POST("/support-cases", { params: { header: key(o) }, body })),
    supportCases: async () => unwrap(await client.GET("/support-cases")),
  };
}

/** The client {@link createPortalClient} makes. */
export type PortalClient = ReturnType<typeof createPortalClient>;
