/**
 * Gateway test support: real nodes (test/support/cluster.ts), each with its real local API on an
 * ephemeral loopback port and a movable session clock, and a real gateway over HTTPS with the
 * node's TLS certificate. Requests go through node:https trusting the party's CA.
 */
import { request as httpsRequest } from "node:https";
import { startLocalApi, type LocalApiServer } from "../../services/node/local-api.ts";
import { loadIdentity } from "../../services/identity/index.ts";
import { ensureAdmin } from "../../services/officers/index.ts";
import type { LiaisonNode } from "../../services/node/index.ts";
import { startGateway, type Gateway } from "../../gateway/index.ts";
import type { Cluster } from "../support/cluster.ts";

export const ADMIN = { username: "admin", password: "correct horse battery staple" };
export const PASSWORD = "officer-password-2026!";
export const ROLE_NAMES = ["drafter", "approver", "analyst", "auditor", "admin"] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export class MovableClock {
  offsetMs = 0;
  readonly now = (): Date => new Date(Date.now() + this.offsetMs);
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface Site {
  party: string;
  node: LiaisonNode;
  localApi: LocalApiServer;
  gateway: Gateway;
  caCertPem: string;
  clock: MovableClock;
  close(): Promise<void>;
}

/** A node of the cluster with its local API and a gateway in front. */
export async function openSite(cluster: Cluster, party: string): Promise<Site> {
  const node = cluster.node(party);
  const folder = cluster.folders.get(party)!;
  const clock = new MovableClock();
  await ensureAdmin(node.db, ADMIN, node.ledger);
  const localApi = await startLocalApi(node, { host: "127.0.0.1", port: 0, sessionClock: clock.now });
  const identity = await loadIdentity(folder.identityDir);
  const gateway = await startGateway({
    localApiAddress: `127.0.0.1:${localApi.port}`,
    tlsCertPem: identity.tlsCertPem,
    tlsKeyPem: identity.tlsKeyPem,
    caCertPem: identity.caCertPem,
    host: "127.0.0.1",
    port: 0,
  });
  return {
    party,
    node,
    localApi,
    gateway,
    caCertPem: identity.caCertPem,
    clock,
    async close() {
      await gateway.close();
      await localApi.close();
    },
  };
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  bytes: Buffer;
  json: any;
  setCookies: string[];
}

export interface HttpOptions {
  body?: unknown;
  /** Sent as is (for malformed JSON). */
  raw?: string | Buffer;
  contentType?: string | null;
  token?: string;
  cookies?: Record<string, string>;
  headers?: Record<string, string>;
}

/** One HTTPS request to a gateway, trusting the party CA. */
export function http(site: Site, method: string, path: string, options: HttpOptions = {}): Promise<HttpResponse> {
  const url = new URL(path, site.gateway.url);
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  let payload: Buffer | undefined;
  if (options.raw !== undefined) payload = Buffer.from(options.raw);
  else if (options.body !== undefined) payload = Buffer.from(JSON.stringify(options.body));
  if (payload !== undefined) {
    if (options.contentType !== null) headers["content-type"] = options.contentType ?? "application/json";
    headers["content-length"] = String(payload.length);
  }
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.cookies) headers.cookie = Object.entries(options.cookies).map(([k, v]) => `${k}=${v}`).join("; ");
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, headers, ca: site.caCertPem, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const bytes = Buffer.concat(chunks);
        const text = bytes.toString("utf8");
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        const sc = res.headers["set-cookie"];
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, bytes, json, setCookies: sc ?? [] });
      });
    });
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** Cookie name → value from Set-Cookie headers. */
export function cookiesFrom(res: HttpResponse): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of res.setCookies) {
    const [pair] = line.split(";");
    const eq = pair!.indexOf("=");
    out[pair!.slice(0, eq)] = pair!.slice(eq + 1);
  }
  return out;
}

/** Sign in through the gateway with Bearer tokens. */
export async function signIn(site: Site, username: string, password = PASSWORD): Promise<{ accessToken: string; refreshToken: string; officer: any }> {
  const res = await http(site, "POST", "/api/session/login", { body: { username, password, session: "bearer" } });
  if (res.status !== 200) throw new Error(`login of ${username} failed: ${res.status} ${res.text}`);
  return res.json;
}

/** Create an officer through the gateway as the admin, and sign them in. */
export async function makeOfficer(site: Site, username: string, roles: RoleName[]): Promise<{ accessToken: string; refreshToken: string; officer: any }> {
  const admin = await signIn(site, ADMIN.username, ADMIN.password);
  const res = await http(site, "POST", "/api/officers", {
    token: admin.accessToken,
    body: { username, displayName: `Officer ${username}`, roles, password: PASSWORD },
  });
  if (res.status !== 201) throw new Error(`creating ${username} failed: ${res.status} ${res.text}`);
  return signIn(site, username);
}

/** A wanted-person draft in the protobuf JSON mapping, as the console sends it. */
export function wantedPersonDraft(recipients: string[], names: Array<{ fullName: string; script: string; lang: string; transliteration?: boolean; scheme?: string }> = [
  { fullName: "Nguyễn Văn A", script: "Latn", lang: "vi" },
  { fullName: "阮文甲", script: "Hani", lang: "zh-Hans" },
  { fullName: "Ruan Wenjia", script: "Latn", lang: "zh-Hans", transliteration: true, scheme: "pinyin" },
], reference = "VN-MPS/C03/2026/00123"): Record<string, unknown> {
  return {
    header: { recipientParties: recipients, classification: "CLASSIFICATION_RESTRICTED", handlingCodes: ["H2"], languages: ["en", "vi"] },
    wantedPerson: {
      summary: { reference, title: [{ lang: "en", text: "Wanted: organiser of a telecom fraud ring" }] },
      person: { names, dateOfBirth: { year: 1985, month: 4, day: 12 }, nationalities: ["VNM"], sex: "male", documents: [{ kind: "passport", number: "C1234567", issuingCountry: "VNM" }] },
      charges: [{ lang: "en", text: "Fraud (Penal Code art. 174)" }],
      warrantReference: "QĐ-123/2026",
      issuingAuthority: "Investigation Police Agency",
      dangerousness: "DANGEROUSNESS_MODERATE",
      requestedAction: "arrest-and-hand-over",
    },
  };
}

/** Wait until `check` returns a value (polling), or fail after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 20_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A human-trafficking draft (one informant, one victim — protected parties) for `recipients`. */
export function traffickingDraft(recipients: string[], parties: { reference: string; informant: string; informantContact: string; victim: string }): Record<string, unknown> {
  return {
    header: { recipientParties: recipients, classification: "CLASSIFICATION_CONFIDENTIAL", languages: ["en"] },
    humanTrafficking: {
      summary: {
        reference: parties.reference,
        title: [{ lang: "en", text: "Workers trafficked to a scam compound" }],
        informants: [{ names: [{ fullName: parties.informant, script: "Latn", lang: "vi" }], contact: parties.informantContact }],
      },
      victims: [{ names: [{ fullName: parties.victim, script: "Latn", lang: "vi" }], nationality: "VNM" }],
      victimCount: 1,
      recruitmentMethod: "fake job offer on a social network",
    },
  };
}

/** Draft `message` at `site` as `drafter`, approve it as `approver`, wait until its outbox is drained; the message id. */
export async function draftApproveDeliver(site: Site, message: Record<string, unknown>, drafter: string, approver: string): Promise<string> {
  const created = await http(site, "POST", "/api/drafts", { token: drafter, body: { message } });
  if (created.status !== 201) throw new Error(`draft refused: ${created.status} ${created.text}`);
  const sent = await http(site, "POST", `/api/drafts/${created.json.draftId}/approve`, { token: approver });
  if (sent.status !== 200) throw new Error(`approval refused: ${sent.status} ${sent.text}`);
  await site.node.outbox.drained(60_000);
  return String(sent.json.messageId);
}
