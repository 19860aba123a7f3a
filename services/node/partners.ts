/**
 * The live list of onboarded partners, read from the identity folder's `partners/` (written by
 * `liaison partner import`). Re-read when the folder changes, so a partner onboarded while the
 * node runs is accepted without a restart; each newly seen partner is recorded in the ledger.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LiaisonError } from "../errors/index.ts";
import type { TLSSocket } from "node:tls";
import { loadPartners, KeyRing, verifyPeerCertificateWindow, type Identity, type Partner, type VerifiedPeerCertificate } from "../identity/index.ts";
import { clientCertificateOf } from "../transport/index.ts";
import { createLogger } from "../logging/index.ts";

export class PartnerRegistry {
  private readonly log = createLogger("partners");
  private partners = new Map<string, Partner>();
  private lastStamp = "";
  private timer: NodeJS.Timeout | undefined;
  keyRing: KeyRing;

  constructor(
    private readonly identityDir: string,
    private readonly own: Identity,
    private readonly onNewPartner: (partner: Partner) => Promise<void>,
  ) {
    this.keyRing = new KeyRing();
  }

  private suspended = new Map<string, Suspension>();
  /** Bumped whenever the partners or suspensions are re-read: cached peer decisions die with it. */
  private generation = 0;
  private readonly authenticatedConnections = new WeakMap<TLSSocket, VerifiedPeerCertificate & { generation: number }>();

  private stamp(): string {
    return ["partners", SUSPENDED_DIR]
      .map((d) => {
        try {
          const s = statSync(join(this.identityDir, d));
          return `${s.mtimeMs}:${s.size}`;
        } catch {
          return "none";
        }
      })
      .join("|");
  }

  /** Re-read the partner files if they changed; returns true when something changed. */
  async refresh(force = false): Promise<boolean> {
    const stamp = this.stamp();
    if (!force && stamp === this.lastStamp) return false;
    this.lastStamp = stamp;
    this.generation++;
    const loaded = await loadPartners(this.identityDir);
    // Our own keys too: our receipts and envelopes must verify with the same ring.
    const ring = new KeyRing();
    await ring.addAttestations(this.own.party, this.own.caCertPem, this.own.attestations);
    const next = new Map<string, Partner>();
    for (const partner of loaded) {
      next.set(partner.party, partner);
      await ring.addAttestations(partner.party, partner.caCertPem, partner.attestations);
    }
    const added = [...next.values()].filter((p) => !this.partners.has(p.party) || this.partners.get(p.party)!.fingerprint !== p.fingerprint);
    this.partners = next;
    this.keyRing = ring;
    this.suspended = readSuspensions(this.identityDir);
    for (const partner of added) {
      this.log.info("partner onboarded", { party: partner.party, fingerprint: partner.fingerprint });
      await this.onNewPartner(partner);
    }
    return true;
  }

  watch(intervalMs = 1000): void {
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) => this.log.error("could not reload partners", { cause: error }));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  get(party: string): Partner | undefined {
    return this.partners.get(party);
  }

  list(): Partner[] {
    return [...this.partners.values()];
  }

  /** The partners whose calls are accepted now (onboarded and not suspended). */
  active(): Partner[] {
    return this.list().filter((p) => !this.suspended.has(p.party));
  }

  suspension(party: string): Suspension | undefined {
    return this.suspended.get(party);
  }

  /**
   * The partner a peer TLS connection authenticated as (its client certificate chains to that
   * partner's CA and names that party). The decision is kept per connection — certificates cannot
   * change on an open TLS 1.3 connection — for as long as both certificates are valid and the
   * partner list is unchanged, so a busy connection does not re-parse X.509 on every call.
   * Suspension is not part of it: callers check it on every call.
   */
  authenticateConnection(socket: TLSSocket | undefined, at: Date): string {
    const known = socket && this.authenticatedConnections.get(socket);
    if (known && known.generation === this.generation && at >= known.validFrom && at <= known.validTo) return known.party;
    const certificate = clientCertificateOf(socket);
    if (!socket || !certificate) throw new LiaisonError("PEER_CERTIFICATE_MISSING", "a client certificate is required on the peer API");
    const trusted = this.list().map((p) => ({ party: p.party, caCertPem: p.caCertPem }));
    const verified = verifyPeerCertificateWindow(certificate, trusted, at, { purpose: "clientAuth" });
    this.authenticatedConnections.set(socket, { ...verified, generation: this.generation });
    return verified.party;
  }

  /** Refuse a suspended partner's calls (PEER_SUSPENDED). */
  assertNotSuspended(party: string): void {
    if (this.suspended.has(party)) throw new LiaisonError("PEER_SUSPENDED", "this partner is suspended by the receiving node");
  }
}

/** Where `liaison partner suspend` records suspensions, beside `partners/` in the identity folder. */
const SUSPENDED_DIR = "suspended";

export interface Suspension {
  party: string;
  reason: string;
  at: string;
}

function readSuspensions(identityDir: string): Map<string, Suspension> {
  const out = new Map<string, Suspension>();
  let names: string[] = [];
  try {
    names = readdirSync(join(identityDir, SUSPENDED_DIR));
  } catch {
    return out;
  }
  for (const name of names.filter((n) => n.endsWith(".json"))) {
    try {
      const s = JSON.parse(readFileSync(join(identityDir, SUSPENDED_DIR, name), "utf8")) as Suspension;
      if (typeof s.party === "string") out.set(s.party, s);
    } catch {
      // an unreadable marker still suspends: fail closed
      out.set(name.slice(0, -5), { party: name.slice(0, -5), reason: "unreadable suspension record", at: "" });
    }
  }
  return out;
}

/** Suspend a partner: a running node refuses its calls within a second. */
export function suspendPartner(identityDir: string, party: string, reason: string, now = new Date()): void {
  const dir = join(identityDir, SUSPENDED_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${party}.json.tmp`);
  writeFileSync(tmp, JSON.stringify({ party, reason, at: now.toISOString() }, null, 2), { mode: 0o600 });
  renameSync(tmp, join(dir, `${party}.json`));
}

/** Lift a suspension. Returns false if the partner was not suspended. */
export function resumePartner(identityDir: string, party: string): boolean {
  const file = join(identityDir, SUSPENDED_DIR, `${party}.json`);
  try {
    statSync(file);
  } catch {
    return false;
  }
  rmSync(file);
  return true;
}

export function listSuspensions(identityDir: string): Suspension[] {
  return [...readSuspensions(identityDir).values()];
}
