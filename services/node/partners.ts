/**
 * The live list of onboarded partners, read from the identity folder's `partners/` (written by
 * `liaison partner import`). Re-read when the folder changes, so a partner onboarded while the
 * node runs is accepted without a restart; each newly seen partner is recorded in the ledger.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { loadPartners, KeyRing, type Identity, type Partner } from "../identity/index.ts";
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

  private stamp(): string {
    try {
      const s = statSync(join(this.identityDir, "partners"));
      return `${s.mtimeMs}:${s.size}`;
    } catch {
      return "none";
    }
  }

  /** Re-read the partner files if they changed; returns true when something changed. */
  async refresh(force = false): Promise<boolean> {
    const stamp = this.stamp();
    if (!force && stamp === this.lastStamp) return false;
    this.lastStamp = stamp;
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
}
