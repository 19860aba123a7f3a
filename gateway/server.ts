/**
 * The gateway: HTTPS (the node's TLS certificate), REST/JSON over the node's local gRPC API, the
 * OpenAPI document and the officers' console (static files). Every response carries the security
 * headers; every error is `{ code, message, correlationId }` with the HTTP status of the code in
 * the one error table; the correlation id is logged and sent to the node as `x-correlation-id`.
 */
import { randomUUID } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ERRORS, LiaisonError, toLiaisonError, type ErrorCode } from "../services/errors/index.ts";
import { createLogger } from "../services/logging/index.ts";
import type { LoginResponse } from "../gen/liaison/v1/local_pb.ts";
import { LocalApiConnection } from "./client.ts";
import { buildOpenApi } from "./openapi.ts";
import { ROUTES, type RouteContext, type RouteDef, type RouteResult } from "./routes.ts";
import { parseJsonBody, validate } from "./validation.ts";
import { trustRoutes } from "./trust.ts";
import { browserVerifier } from "./verifier/build.ts";

export interface GatewayOptions {
  /** "host:port" of the node's local API. */
  localApiAddress: string;
  tlsCertPem: string;
  tlsKeyPem: string;
  host: string;
  port: number;
  /**
   * This party's CA certificate (it must have issued `tlsCertPem`): the console then pins this
   * party's CA too when it verifies a minutes bundle in the browser. Partners' CAs are pinned by
   * the fingerprints the node onboarded them with.
   */
  caCertPem?: string;
  /** Largest JSON body accepted (default 6 MiB: a draft with attachments, base64). */
  bodyLimit?: number;
}

export interface Gateway {
  /** e.g. https://127.0.0.1:8443 */
  readonly url: string;
  readonly port: number;
  /** Calls the gateway made to the local API so far. */
  localApiCalls(): number;
  /** The routes as registered (method and path), for checking the OpenAPI document. */
  registeredRoutes(): Array<{ method: string; path: string }>;
  close(): Promise<void>;
}

export const ACCESS_COOKIE = "liaison_access";
export const REFRESH_COOKIE = "liaison_refresh";
const CORRELATION_PATTERN = /^[A-Za-z0-9._:-]{8,64}$/;
const TOKEN_PATTERN = /^[A-Za-z0-9._~+/=-]{1,4096}$/;

/** The headers of every response. No inline script or style anywhere, so the CSP can say 'self' only. */
export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "strict-transport-security": "max-age=63072000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
};

const CONSOLE_DIR = join(dirname(fileURLToPath(import.meta.url)), "console");
const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/** The console's files, read once: path served → bytes and type. */
function consoleFiles(): Map<string, { data: Buffer; type: string }> {
  const files = new Map<string, { data: Buffer; type: string }>();
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name), `${prefix}${entry.name}/`);
      else if (CONTENT_TYPES[extname(entry.name)]) {
        files.set(`${prefix}${entry.name}`, { data: readFileSync(join(dir, entry.name)), type: CONTENT_TYPES[extname(entry.name)]! });
      }
    }
  };
  walk(CONSOLE_DIR, "");
  return files;
}

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

function cookie(name: string, value: string, path: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Path=${path}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; HttpOnly; Secure; SameSite=Strict`;
}

function sessionCookies(login: LoginResponse): string[] {
  const now = Date.now();
  const access = login.accessExpiresAt ? (timestampDate(login.accessExpiresAt).getTime() - now) / 1000 : 600;
  const refresh = login.refreshExpiresAt ? (timestampDate(login.refreshExpiresAt).getTime() - now) / 1000 : 3600;
  return [cookie(ACCESS_COOKIE, login.accessToken, "/", access), cookie(REFRESH_COOKIE, login.refreshToken, "/api/session", refresh)];
}

const CLEAR_COOKIES = [cookie(ACCESS_COOKIE, "", "/", 0), cookie(REFRESH_COOKIE, "", "/api/session", 0)];

declare module "fastify" {
  interface FastifyRequest {
    correlationId: string;
  }
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const log = createLogger("gateway");
  const api = new LocalApiConnection(options.localApiAddress);
  const registered: Array<{ method: string; path: string }> = [];
  const app: FastifyInstance = Fastify({
    https: { cert: options.tlsCertPem, key: options.tlsKeyPem, minVersion: "TLSv1.2" },
    logger: false,
    bodyLimit: options.bodyLimit ?? 6 * 1024 * 1024,
    // Query strings are flat key=value pairs: `a[b]=c` stays the key "a[b]" (refused as unknown).
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    genReqId: () => randomUUID(),
    return503OnClosing: true,
  });

  app.addHook("onRoute", (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const m of methods) if (m !== "HEAD") registered.push({ method: m, path: r.url });
  });

  // JSON only, parsed by us: invalid JSON and injection keys are refused before any route runs.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.addHook("onRequest", async (request, reply) => {
    const given = request.headers["x-correlation-id"];
    request.correlationId = typeof given === "string" && CORRELATION_PATTERN.test(given) ? given : randomUUID();
    reply.header("x-correlation-id", request.correlationId);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
  });

  app.addHook("onResponse", async (request, reply) => {
    const level = reply.statusCode >= 500 ? "error" : "info";
    log.log(level, "request", {
      correlationId: request.correlationId,
      method: request.method,
      route: request.routeOptions.url ?? "(no route)",
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    });
  });

  const sendError = (request: FastifyRequest, reply: FastifyReply, error: LiaisonError) => {
    const status = ERRORS[error.code].http;
    if (status >= 500) log.error("request failed", { correlationId: request.correlationId, code: error.code, reason: error.message, cause: error.cause });
    else log.info("request refused", { correlationId: request.correlationId, code: error.code, reason: error.message });
    if (error.code === "UNAUTHENTICATED" && request.url.startsWith("/api/")) reply.header("www-authenticate", 'Bearer realm="liaison"');
    return reply
      .code(status)
      .header("cache-control", "no-store")
      .type("application/json; charset=utf-8")
      .send({ code: error.code, message: error.message, correlationId: request.correlationId });
  };

  app.setErrorHandler((error, request, reply) => {
    let mapped: LiaisonError;
    const fastifyCode = (error as { code?: string }).code;
    if (error instanceof LiaisonError) mapped = error;
    else if (fastifyCode === "FST_ERR_CTP_BODY_TOO_LARGE") {
      mapped = new LiaisonError("ENVELOPE_TOO_LARGE", `the request body is larger than ${options.bodyLimit ?? 6 * 1024 * 1024} bytes`);
    } else if (fastifyCode === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      mapped = new LiaisonError("INVALID_ARGUMENT", "the request body must be JSON (Content-Type: application/json)");
    } else if (fastifyCode === "FST_ERR_CTP_EMPTY_JSON_BODY" || fastifyCode === "FST_ERR_CTP_INVALID_CONTENT_LENGTH") {
      mapped = new LiaisonError("INVALID_ARGUMENT", "the request body is empty or its length is wrong");
    } else if (typeof (error as { statusCode?: number }).statusCode === "number" && (error as { statusCode: number }).statusCode < 500) {
      mapped = new LiaisonError("INVALID_ARGUMENT", "the request is malformed", { cause: error });
    } else mapped = toLiaisonError(error);
    return sendError(request, reply, mapped);
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new LiaisonError("NOT_FOUND", `no such page or API route: ${request.method} ${request.url.split("?")[0]!.slice(0, 200)}`)),
  );

  const ownOrigin = (request: FastifyRequest) => `https://${request.headers.host ?? ""}`;

  const register = (def: RouteDef) => {
    app.route({
      method: def.method,
      url: def.path,
      handler: async (request, reply) => {
        const cookies = parseCookies(request.headers.cookie);
        const auth = request.headers.authorization;
        let accessToken: string | undefined;
        let fromCookie = false;
        if (typeof auth === "string" && auth !== "") {
          const m = /^Bearer (\S+)$/.exec(auth);
          if (!m || !TOKEN_PATTERN.test(m[1]!)) throw new LiaisonError("UNAUTHENTICATED", "the Authorization header must be `Bearer <access token>`");
          accessToken = m[1];
        } else if (cookies.get(ACCESS_COOKIE)) {
          accessToken = cookies.get(ACCESS_COOKIE);
          fromCookie = true;
        }
        const refreshCookie = cookies.get(REFRESH_COOKIE) || undefined;
        if (accessToken !== undefined && !TOKEN_PATTERN.test(accessToken)) throw new LiaisonError("UNAUTHENTICATED", "the session cookie is not valid: sign in again");
        // Cookie sessions: a state-changing request must come from our own pages.
        if (def.method !== "GET" && (fromCookie || refreshCookie)) {
          const origin = request.headers.origin;
          if (origin !== undefined && origin !== ownOrigin(request)) throw new LiaisonError("FORBIDDEN", "cross-origin requests are refused");
        }
        if (def.auth && accessToken === undefined) throw new LiaisonError("UNAUTHENTICATED", "sign in first: no access token (cookie or Bearer header)");
        const params = def.params ? validate(def.params, request.params, "path") : undefined;
        const query = def.query ? validate(def.query, request.query, "query") : (() => {
          if (Object.keys(request.query as object).length) validate(emptyQuery, request.query, "query");
          return undefined;
        })();
        let body: unknown;
        if (def.method === "POST") {
          if (def.body) body = def.body && (request.body !== undefined || !def.bodyOptional) ? validate(def.body, request.body, "body") : undefined;
          else if (request.body !== undefined && (typeof request.body !== "object" || request.body === null || Object.keys(request.body).length)) {
            throw new LiaisonError("INVALID_ARGUMENT", "body: this route takes no request body");
          }
        }
        const ctx: RouteContext = { correlationId: request.correlationId, accessToken, refreshCookie, api };
        const result: RouteResult = await def.handle({ params, query, body }, ctx);
        reply.header("cache-control", "no-store");
        if (result.session) reply.header("set-cookie", "login" in result.session ? sessionCookies(result.session.login) : CLEAR_COOKIES);
        if (result.bytes) {
          return reply
            .code(result.status ?? 200)
            .type(result.bytes.contentType)
            .header("content-disposition", `attachment; filename="${result.bytes.filename}"`)
            .send(Buffer.from(result.bytes.data));
        }
        return reply.code(result.status ?? 200).type("application/json; charset=utf-8").send(JSON.stringify(result.body ?? {}));
      },
    });
  };
  const routes = [...ROUTES, ...trustRoutes(options)];
  for (const def of routes) register(def);

  const openapi = JSON.stringify(buildOpenApi(routes, "1"));
  app.get("/openapi.json", async (_request, reply) => reply.type("application/json; charset=utf-8").send(openapi));

  const files = consoleFiles();
  const index = files.get("index.html");
  if (index) app.get("/", async (_request, reply) => reply.type(index.type).header("cache-control", "no-cache").send(index.data));
  for (const [path, file] of files) {
    if (path === "index.html") continue;
    app.get(`/assets/${path}`, async (_request, reply) => reply.type(file.type).header("cache-control", "no-cache").send(file.data));
  }
  // The minutes-bundle verifier, compiled from the node's own code on first use (gateway/verifier/).
  app.get("/assets/verifier.js", async (request, reply) => {
    const verifier = await browserVerifier();
    reply.type(CONTENT_TYPES[".js"]!).header("cache-control", "no-cache").header("etag", verifier.etag);
    return request.headers["if-none-match"] === verifier.etag ? reply.code(304).send() : reply.send(Buffer.from(verifier.code));
  });

  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const url = `https://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;
  log.info("gateway listening", { url, localApi: options.localApiAddress });
  return {
    url,
    port,
    localApiCalls: () => api.calls,
    registeredRoutes: () => registered.slice(),
    async close() {
      await app.close();
      api.close();
    },
  };
}

const emptyQuery = z.strictObject({});

export type { ErrorCode };
