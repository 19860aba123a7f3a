/**
 * Shared by the hostile tests: a cluster whose nodes take config overrides, an honest partner's
 * exchange running concurrently with the attacks, and the one assertion every refusal gets.
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { Db } from "mongodb";
import { startNode, type LiaisonNode, type NodeConfig } from "../../services/node/index.ts";
import { makeParty, nodeConfig, onboard, type PartyFolder } from "../support/cluster.ts";
import { buildMessage, type Outcome } from "../support/adversary.ts";

export const VN = "VN-MPS";
export const CN = "CN-MPS";
export const KH = "KH-MOI";

export interface HostileCluster {
  root: string;
  folders: Map<string, PartyFolder>;
  nodes: Map<string, LiaisonNode>;
  node(party: string): LiaisonNode;
  folder(party: string): PartyFolder;
  close(): Promise<void>;
}

/** Like support/cluster's startCluster, with per-party config overrides (limits). */
export async function startHostileCluster(parties: string[], overrides: Record<string, Partial<NodeConfig>> = {}): Promise<HostileCluster> {
  const root = mkdtempSync(join(tmpdir(), "liaison-hostile-"));
  const folders = new Map<string, PartyFolder>();
  for (const party of parties) folders.set(party, await makeParty(root, party));
  const nodes = new Map<string, LiaisonNode>();
  for (const party of parties) nodes.set(party, await startNode(nodeConfig(folders.get(party)!, overrides[party] ?? {})));
  for (const a of parties) for (const b of parties) if (a !== b) await onboard(folders.get(a)!, folders.get(b)!, nodes.get(b)!.peerAddress);
  for (const node of nodes.values()) await node.partners.refresh(true);
  return {
    root,
    folders,
    nodes,
    node: (party) => nodes.get(party) ?? assert.fail(`no node ${party}`),
    folder: (party) => folders.get(party) ?? assert.fail(`no folder ${party}`),
    async close() {
      for (const node of nodes.values()) await node.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Limits with one field changed (zod defaults filled in). */
export function limits(base: NodeConfig["limits"] | undefined, change: Partial<NodeConfig["limits"]>): NodeConfig["limits"] {
  return {
    maxEnvelopeBytes: 4 * 1024 * 1024 - 1024,
    clockSkewSeconds: 300,
    maxMessageAgeSeconds: 7 * 24 * 3600,
    peerRequestsPerSecond: 500,
    peerRequestBurst: 1000,
    peerCallTimeoutSeconds: 30,
    ...base,
    ...change,
  };
}

/**
 * An honest partner exchanging with the receiver throughout: one signed delivery every
 * `intervalMs` through the node's own `send()`, each checked for a receipt.
 */
export class HonestExchange {
  ok = 0;
  failures: string[] = [];
  latenciesMs: number[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(private readonly from: LiaisonNode, private readonly to: string, intervalMs = 25) {
    this.loop = (async () => {
      while (this.running) {
        const t0 = performance.now();
        try {
          const outcome = await this.from.send(buildMessage({ sender: from.party, recipients: [to], title: "honest" }));
          const failure = outcome.failures.get(to);
          if (failure) this.failures.push(`${failure.code}: ${failure.message}`);
          else this.ok++;
        } catch (error) {
          this.failures.push(String(error));
        }
        this.latenciesMs.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    })();
  }

  /** Wait until at least `n` more honest deliveries have succeeded (proves service right now). */
  async progress(n = 1, timeoutMs = 20_000): Promise<void> {
    const target = this.ok + n;
    const deadline = Date.now() + timeoutMs;
    while (this.ok < target) {
      if (Date.now() > deadline) assert.fail(`honest exchange stalled at ${this.ok} (failures: ${this.failures.slice(-3).join("; ")})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async stop(): Promise<{ ok: number; failures: string[]; maxLatencyMs: number }> {
    this.running = false;
    await this.loop;
    return { ok: this.ok, failures: this.failures, maxLatencyMs: Math.max(0, ...this.latenciesMs) };
  }
}

/** The precise refusal: status, trailer, google.rpc.Status detail with its Rejection. */
export function assertRefused(outcome: Outcome, status: grpc.status, code: string): void {
  assert.equal(outcome.ok, false, `expected ${code}, the node accepted`);
  if (outcome.ok) return;
  assert.equal(outcome.status, status, `status ${grpc.status[outcome.status]} (${outcome.details}), expected ${grpc.status[status]} / ${code}`);
  assert.equal(outcome.trailerCode, code, `trailer ${outcome.trailerCode}, expected ${code}`);
  assert.equal(outcome.rejection?.code, code, `Rejection detail ${outcome.rejection?.code}, expected ${code}`);
  assert.equal(outcome.detailStatus, status, "google.rpc.Status code equals the gRPC status");
  assert.ok(outcome.details.startsWith(`${code}: `), `grpc-message "${outcome.details}" starts with the code`);
}

export interface StoreCounts {
  received: number;
  rejected: number;
}

export async function counts(db: Db, sender?: string): Promise<StoreCounts> {
  return {
    received: await db.collection("envelopes_received").countDocuments(sender ? { senderParty: sender } : {}),
    rejected: await db.collection("envelopes_rejected").countDocuments({}),
  };
}

export async function rejectionRecords(db: Db, messageId: string): Promise<{ code: string; peerParty: string }[]> {
  return db.collection<{ code: string; peerParty: string }>("envelopes_rejected").find({ messageId }).sort({ at: 1 }).toArray();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A row of docs/RELIABILITY.md: when LIAISON_RELIABILITY_OUT names a file (scripts/reliability.ts
 * sets it), each scenario appends what was tried, what the node answered and what was lost.
 */
export interface ReliabilityRow {
  area: string;
  tried: string;
  answer: string;
  lost?: string;
  figures?: string;
}

export function report(row: ReliabilityRow): void {
  const out = process.env.LIAISON_RELIABILITY_OUT;
  if (!out) return;
  appendFileSync(out, JSON.stringify({ lost: "nothing", ...row }) + "\n");
}
