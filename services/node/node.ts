/**
 * A Liaison node: one party's process. Wires the store (embedded or a replica set through the
 * official driver), identity, partners, ledger, the exchange and the peer API.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { MongoClient, type Db } from "mongodb";
import type { Message } from "../../gen/liaison/v1/message_pb.ts";
import {
  GetCheckpointResponseSchema,
  GetConsistencyProofResponseSchema,
  GetEntryResponseSchema,
  PeerApi,
} from "../../gen/liaison/v1/peer_pb.ts";
import { create } from "@bufbuild/protobuf";
import {
  hashLeaf,
  readConsistencyProof,
  readCosignedCheckpoint,
  readEntry,
  readInclusionProof,
  readLatestCheckpoint,
  type SignedCheckpoint,
} from "../ledger/index.ts";
import { fromBinary } from "@bufbuild/protobuf";
import { LedgerEntrySchema } from "../../gen/liaison/v1/ledger_pb.ts";
import {
  countDelivery,
  countedHandlers,
  countPeerRefusal,
  countReceived,
  createNodeMetrics,
  ledgerMetricsSources,
  monitorStoreCommands,
  nodeReadiness,
  startMetricsServer,
  type MetricsServer,
  type NodeMetrics,
} from "../metrics/index.ts";
import { dataKeyOf, nodeDomainContext, nodeStoreKey } from "./domain.ts";
import { Witnessing } from "./witnessing.ts";
import type { Receipt } from "../../gen/liaison/v1/envelope_pb.ts";
import { LiaisonError } from "../errors/index.ts";
import { createLogger } from "../logging/index.ts";
import { loadIdentity, signDetached, verifyDetached, type Identity, type KeyRing, type KeyRingEntry } from "../identity/index.ts";
import { startEmbeddedStore, type EmbeddedStore } from "../store/index.ts";
import {
  callDeadline,
  peerTlsSocketOf,
  implementService,
  MAX_RECEIVE_MESSAGE_BYTES,
  partnerChannelCredentials,
  PeerClient,
  PartnerRateLimiter,
  peerServerCredentials,
  serviceDefinition,
  withCallerCorrelation,
} from "../transport/index.ts";
import { mayDiscloseLedgerEntry, Outbox, Receiver, Sender, type SealedEnvelope, type VerifiedSigner } from "../exchange/index.ts";
import { checkBusinessRules, initViews, projectRecorded, type DomainContext } from "../views/index.ts";
import type { NodeConfig } from "./config.ts";
import { PartnerRegistry } from "./partners.ts";
import { NodeLedger } from "./ledger.ts";
import { startLocalApi, type LocalApiServer } from "./local-api.ts";
import { startGateway, type Gateway } from "../../gateway/index.ts";

export interface PeerCallContext {
  /** The partner authenticated from the TLS client certificate. */
  peerParty: string;
}

export interface SendOutcome {
  sealed: SealedEnvelope;
  receipts: Map<string, Receipt>;
  failures: Map<string, LiaisonError>;
}

export class LiaisonNode {
  private readonly log;
  private readonly clients = new Map<string, PeerClient>();
  private closed = false;
  localApi: LocalApiServer | undefined;
  metricsServer: MetricsServer | undefined;
  gateway: Gateway | undefined;

  private constructor(
    readonly config: NodeConfig,
    readonly identity: Identity,
    readonly mongo: MongoClient,
    readonly db: Db,
    private readonly store: EmbeddedStore | undefined,
    readonly partners: PartnerRegistry,
    readonly ledger: NodeLedger,
    readonly receiver: Receiver,
    readonly sender: Sender,
    readonly outbox: Outbox,
    readonly witnessing: Witnessing,
    private readonly server: grpc.Server,
    readonly peerPort: number,
    readonly metrics: NodeMetrics,
    /** The domain views' context (notices, cases, campaigns, minutes). */
    readonly domain: DomainContext,
  ) {
    this.log = createLogger("node", { party: config.party });
  }

  get party(): string {
    return this.config.party;
  }

  get peerAddress(): string {
    return `${this.config.peer.host}:${this.peerPort}`;
  }

  get mongoUri(): string | undefined {
    return this.store?.uri;
  }

  /**
   * Start a node. If any step fails, everything already opened (store, client, ledger lease,
   * listeners, timers) is closed again before the error is rethrown, so a failed start leaves no
   * process hanging on open handles (systemd's Restart= then does its work).
   */
  static async start(config: NodeConfig): Promise<LiaisonNode> {
    const opened: Array<() => unknown> = [];
    try {
      return await LiaisonNode.open(config, opened);
    } catch (error) {
      for (const close of opened.reverse()) {
        await Promise.resolve()
          .then(close)
          .catch(() => undefined);
      }
      throw error;
    }
  }

  private static async open(config: NodeConfig, opened: Array<() => unknown>): Promise<LiaisonNode> {
    const log = createLogger("node", { party: config.party });
    const identity = await loadIdentity(config.identityDir);
    if (identity.party !== config.party) {
      throw new LiaisonError("CONFIG_INVALID", `identity folder belongs to ${identity.party}, configuration says ${config.party}`);
    }
    let store: EmbeddedStore | undefined;
    let uri: string;
    if (config.mongodbUri) {
      uri = config.mongodbUri;
    } else {
      const dbpath = join(config.dataDir, "store");
      mkdirSync(dbpath, { recursive: true, mode: 0o700 });
      store = await startEmbeddedStore({ dbpath, port: 0, encryptionKey: nodeStoreKey(config.identityDir)! });
      const openedStore = store;
      opened.push(() => openedStore.close());
      uri = store.uri;
      // So that operators' tools (backup, ledger verify) can reach the running node's store.
      writeFileSync(join(config.dataDir, "store.uri"), store.uri + "\n", { mode: 0o600 });
      log.info("embedded store started", { dbpath, port: store.port });
    }
    const metrics = createNodeMetrics({ party: config.party });
    const mongo = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000, monitorCommands: true });
    monitorStoreCommands(mongo, metrics);
    opened.push(() => mongo.close());
    await mongo.connect();
    const db = mongo.db(config.database);

    const ledger = await NodeLedger.open(mongo, db, identity, { leaseTtlMs: config.ledgerLeaseSeconds * 1000 });
    opened.push(() => ledger.close());
    const partners = new PartnerRegistry(
      config.identityDir,
      identity,
      async (partner) => {
        // Recorded once per (party, CA), not at every start.
        const seen = await db
          .collection<{ _id: string; at: Date }>("partners_onboarded")
          .updateOne({ _id: `${partner.party}:${partner.fingerprint}` }, { $setOnInsert: { at: new Date() } }, { upsert: true });
        if (seen.upsertedCount === 1) {
          await ledger.append("partner.onboarded", new TextEncoder().encode(JSON.stringify({ party: partner.party, fingerprint: partner.fingerprint })));
        }
      },
    );
    await partners.refresh(true);
    partners.watch();
    opened.push(() => partners.stop());

    const verifySignature = async (jws: string, payload: Uint8Array, typ: string): Promise<VerifiedSigner> =>
      verifyWithRing(partners.keyRing, jws, payload, typ);
    const sign = async (payload: Uint8Array, typ: string): Promise<string> =>
      signDetached(payload, identity.activeSigningKey.privateKey, { kid: identity.activeSigningKey.kid, typ });
    const appendToLedger = async (kind: string, bytes: Uint8Array): Promise<number> => (await ledger.append(kind, bytes)).index;

    const domain = nodeDomainContext({
      db,
      identity,
      dataKey: dataKeyOf(config.identityDir),
      partner: (party) => partners.get(party),
      keyRing: () => partners.keyRing,
    });
    await initViews(domain);
    const onRecorded = (record: Parameters<typeof projectRecorded>[0]) => projectRecorded(record, domain);
    const receiver = new Receiver({
      party: config.party,
      db,
      verifySignature,
      signReceipt: sign,
      appendToLedger,
      maxEnvelopeBytes: config.limits.maxEnvelopeBytes,
      freshness: { clockSkewMs: config.limits.clockSkewSeconds * 1000, maxMessageAgeMs: config.limits.maxMessageAgeSeconds * 1000 },
      businessRules: (message, senderParty) => checkBusinessRules(message, senderParty, domain),
      onRecorded,
      findLedgerEntry: async (kind, content, since) => {
        const candidates = db.collection<{ index: number; bytes: { buffer: Uint8Array } }>("ledger_entries").find({ kind, appendedAt: { $gte: since } });
        for await (const doc of candidates) {
          const entry = fromBinary(LedgerEntrySchema, new Uint8Array(doc.bytes.buffer));
          if (Buffer.from(entry.content).equals(Buffer.from(content))) return doc.index;
        }
        return undefined;
      },
    });
    await receiver.init();
    const sender = new Sender({ party: config.party, db, sign, verifySignature, appendToLedger, onRecorded });
    await sender.init();
    const deliverOnce = sender.deliverOnce.bind(sender);
    sender.deliverOnce = (sealed, recipient, client) => countDelivery(metrics, recipient, () => deliverOnce(sealed, recipient, client));
    // The outbox needs clients, which need the node: it is bound once the node exists.
    let node: LiaisonNode | undefined;
    const outbox = new Outbox({ db, sender, clientFor: (party) => node!.clientFor(party) });
    await outbox.init();

    const witnessing = new Witnessing(db, identity, ledger, () => partners.keyRing, (partner, outcome) =>
      metrics.cosignatures.inc({ partner, outcome }),
    );
    await witnessing.init();
    const partyList = () => partners.list().map((p) => p.party);
    metrics.setSources({ ...ledgerMetricsSources(db, partyList), outboxStatus: () => outbox.status(partyList()) });

    const callTimeoutMs = config.limits.peerCallTimeoutSeconds * 1000;
    const server = new grpc.Server({
      "grpc.max_receive_message_length": MAX_RECEIVE_MESSAGE_BYTES,
      "grpc.max_send_message_length": MAX_RECEIVE_MESSAGE_BYTES,
      // Slow or half-open streams are cut: a call has at most callTimeoutMs, a connection at
      // most 100 streams at once and 30 minutes of life.
      "grpc.max_concurrent_streams": 100,
      "grpc.max_connection_age_ms": 30 * 60_000,
      "grpc.max_connection_age_grace_ms": callTimeoutMs,
      interceptors: [callDeadline(callTimeoutMs)],
    });
    const lastRetry = new Map<string, number>();
    const limiter = new PartnerRateLimiter({ perSecond: config.limits.peerRequestsPerSecond, burst: config.limits.peerRequestBurst });
    const context = (call: grpc.ServerUnaryCall<Buffer, Buffer>): PeerCallContext => {
      try {
        const peerParty = partners.authenticateConnection(peerTlsSocketOf(call), new Date());
        partners.assertNotSuspended(peerParty);
        limiter.take(peerParty);
        return { peerParty };
      } catch (error) {
        const path = call.getPath();
        const method = path.slice(path.lastIndexOf("/") + 1);
        countPeerRefusal(metrics, method.charAt(0).toLowerCase() + method.slice(1), error);
        throw error;
      }
    };
    /** A partner that calls us is up: what we queued for it need not wait out its backoff. */
    const partnerIsUp = (party: string) => {
      const now = Date.now();
      if ((lastRetry.get(party) ?? 0) > now - 2000) return;
      lastRetry.set(party, now);
      outbox.retryNow(party).catch((error: unknown) => log.warn("could not hurry the outbox", { partner: party, cause: error }));
    };
    server.addService(
      serviceDefinition(PeerApi),
      withCallerCorrelation(implementService(
        PeerApi,
        countedHandlers(metrics, {
          deliver: async (request, ctx: PeerCallContext) => {
            partnerIsUp(ctx.peerParty);
            return countReceived(metrics, ctx.peerParty, () => receiver.deliver(request.bytes, ctx.peerParty));
          },
          getCheckpoint: async () => {
            const latest = await readLatestCheckpoint(db);
            if (!latest) throw new LiaisonError("NOT_FOUND", "no checkpoint has been signed yet");
            return create(GetCheckpointResponseSchema, { checkpoint: (await readCosignedCheckpoint(db, latest.size)) ?? latest.note });
          },
          getEntry: async ({ message }, ctx: PeerCallContext) => {
            const latest = await readLatestCheckpoint(db);
            const size = message.treeSize === 0n ? (latest?.size ?? 0) : Number(message.treeSize);
            const index = Number(message.index);
            if (message.index >= BigInt(size)) throw new LiaisonError("NOT_FOUND", `entry ${message.index} is not in a tree of size ${size}`);
            const entry = await readEntry(db, index);
            if (!entry) throw new LiaisonError("NOT_FOUND", `no entry ${index}`);
            const proof = await readInclusionProof(db, index, size);
            const disclosed = mayDiscloseLedgerEntry(entry.bytes, ctx.peerParty);
            return create(GetEntryResponseSchema, {
              index: BigInt(index),
              kind: entry.kind,
              entry: disclosed ? entry.bytes : new Uint8Array(0),
              treeSize: BigInt(size),
              inclusionProof: proof.proof,
              leafHash: hashLeaf(entry.bytes),
              withheld: !disclosed,
            });
          },
          getConsistencyProof: async ({ message }) => {
            const latest = await readLatestCheckpoint(db);
            const toSize = message.toSize === 0n ? (latest?.size ?? 0) : Number(message.toSize);
            if (latest === undefined || toSize > latest.size) {
              throw new LiaisonError("NOT_FOUND", `no checkpoint covers size ${toSize} yet`);
            }
            return create(GetConsistencyProofResponseSchema, { proof: await readConsistencyProof(db, Number(message.fromSize), toSize) });
          },
          cosign: async (request, ctx: PeerCallContext) => {
            partnerIsUp(ctx.peerParty);
            return witnessing.cosign(ctx.peerParty, request.bytes);
          },
        }),
        { context, logger: createLogger("peer-api", { party: config.party }) },
      )),
    );
    const peerPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        `${config.peer.host}:${config.peer.port}`,
        peerServerCredentials(identity.tlsCertPem, identity.tlsKeyPem),
        (error, port) => (error ? reject(error) : resolve(port)),
      ),
    );
    log.info("peer API listening", { address: `${config.peer.host}:${peerPort}` });
    opened.push(() => server.forceShutdown());
    node = new LiaisonNode(config, identity, mongo, db, store, partners, ledger, receiver, sender, outbox, witnessing, server, peerPort, metrics, domain);
    // From here on the node closes everything it holds, in order.
    const started = node;
    opened.splice(0, opened.length, () => started.close());
    node.startCheckpointing(config.checkpointIntervalSeconds * 1000);
    await outbox.resume();
    if (config.local) node.localApi = await startLocalApi(node, config.local);
    if (config.gateway && node.localApi) {
      node.gateway = await startGateway({
        localApiAddress: `${config.local!.host}:${node.localApi.port}`,
        tlsCertPem: identity.tlsCertPem,
        tlsKeyPem: identity.tlsKeyPem,
        // So that the console's in-browser verifier pins this party's own CA as well.
        caCertPem: identity.caCertPem,
        host: config.gateway.host,
        port: config.gateway.port,
      });
      log.info("officers' console listening", { url: node.gateway.url });
    }
    if (config.metrics) {
      node.metricsServer = await startMetricsServer({
        host: config.metrics.host,
        port: config.metrics.port,
        metrics,
        ready: nodeReadiness({ db, sequencerHoldsLease: () => ledger.isSequencer }),
      });
    }
    return node;
  }

  private checkpointTimer: NodeJS.Timeout | undefined;

  private startCheckpointing(intervalMs: number): void {
    if (intervalMs <= 0) return;
    let running = false;
    this.checkpointTimer = setInterval(() => {
      if (running) return;
      running = true;
      this.publishCheckpoint()
        .catch((error: unknown) => this.log.warn("checkpoint round failed", { cause: error }))
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    this.checkpointTimer.unref();
  }

  /** Sign a checkpoint if the ledger grew and collect the partners' cosignatures. */
  async publishCheckpoint(): Promise<SignedCheckpoint | undefined> {
    const partners = this.partners.list().map((p) => ({ party: p.party, client: this.clientFor(p.party) }));
    return this.witnessing.publish(partners);
  }

  /** The gRPC client for one partner, created once and reused. */
  clientFor(party: string): PeerClient {
    const cached = this.clients.get(party);
    if (cached) return cached;
    const partner = this.partners.get(party);
    if (!partner) throw new LiaisonError("NOT_FOUND", `${party} is not an onboarded partner`);
    const client = new PeerClient({
      address: partner.endpoint,
      credentials: partnerChannelCredentials({
        partnerParty: party,
        partnerCaPem: partner.caCertPem,
        ownCertificatePem: this.identity.tlsCertPem,
        ownPrivateKeyPem: this.identity.tlsKeyPem,
      }),
    });
    this.clients.set(party, client);
    return client;
  }

  /**
   * Seal a complete, approved message and queue it for every recipient. Resolves once it is
   * durably recorded; delivery follows from the outbox, in order per partner, with retries.
   */
  async submit(message: Message): Promise<SealedEnvelope> {
    const sealed = await this.sender.seal(message);
    await this.outbox.enqueue(sealed);
    return sealed;
  }

  /** Seal a complete, approved message and deliver it once to each recipient, now (no queue). */
  async send(message: Message): Promise<SendOutcome> {
    const sealed = await this.sender.seal(message);
    const receipts = new Map<string, Receipt>();
    const failures = new Map<string, LiaisonError>();
    await Promise.all(
      sealed.recipients.map(async (party) => {
        try {
          receipts.set(party, await this.sender.deliverOnce(sealed, party, this.clientFor(party)));
        } catch (error) {
          failures.set(party, error instanceof LiaisonError ? error : new LiaisonError("INTERNAL", "delivery failed", { cause: error }));
        }
      }),
    );
    return { sealed, receipts, failures };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.partners.stop();
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    await this.metricsServer?.close();
    await this.gateway?.close();
    await this.localApi?.close();
    await this.outbox.stop();
    for (const client of this.clients.values()) client.close();
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    await this.ledger.close();
    await this.mongo.close();
    if (this.store) rmSync(join(this.config.dataDir, "store.uri"), { force: true });
    await this.store?.close();
    this.log.info("node stopped");
  }
}

/** The attested key with this kid, whichever known party it belongs to. */
function findKey(ring: KeyRing, kid: string): KeyRingEntry | undefined {
  for (const party of ring.parties()) {
    const entry = ring.keys(party).find((k) => k.kid === kid);
    if (entry) return entry;
  }
  return undefined;
}

async function verifyWithRing(ring: KeyRing, jws: string, payload: Uint8Array, typ: string): Promise<VerifiedSigner> {
  let entry: KeyRingEntry | undefined;
  await verifyDetached(jws, payload, {
    typ,
    algorithms: ["EdDSA"],
    resolveKey: (header) => {
      entry = findKey(ring, header.kid);
      if (!entry) throw new LiaisonError("KEY_UNKNOWN", "the signing key is not attested by any known party");
      return entry.publicKey;
    },
  });
  const signer = entry!;
  return { party: signer.party, kid: signer.kid, validFrom: signer.validFrom, ...(signer.retiredAt ? { retiredAt: signer.retiredAt } : {}) };
}

export async function startNode(config: NodeConfig): Promise<LiaisonNode> {
  return LiaisonNode.start(config);
}
