/**
 * `liaison officer …`, `liaison minutes …` and `liaison views …`: the operator's commands on a
 * node's officers and domain views, through the node's database (see database.ts).
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { Option, type Command } from "commander";
import { LiaisonError } from "../errors/index.ts";
import { KeyRing, loadIdentity, loadPartners } from "../identity/index.ts";
import { exportMinutesBundle, verifyMinutesBundle } from "../minutes/index.ts";
import { dataKeyOf, nodeDomainContext } from "../node/domain.ts";
import { listSuspensions } from "../node/partners.ts";
import { checkPasswordPolicy, hashPassword, isRoleName, OfficerStore, ROLES } from "../officers/index.ts";
import { dropViews, rebuildViews, recordedEnvelopes } from "../views/index.ts";
import { withNodeDatabase, type NodeDatabase } from "./database.ts";
import { print, printJson, printTable } from "./output.ts";

const dbOptions = (command: Command): Command =>
  command
    .requiredOption("--config <file>", "the node's configuration (YAML)")
    .option("--uri <mongodb-uri>", "the node's database, when the configuration does not give it");

/** A password from a file, or a new random one that the operator is shown once. */
function passwordFrom(file: string | undefined): { password: string; generated: boolean } {
  if (file) return { password: readFileSync(file, "utf8").replace(/\r?\n$/, ""), generated: false };
  return { password: randomBytes(18).toString("base64url"), generated: true };
}

/** The domain context of a node, built by an operator's command from its folder and database. */
async function domainOf(opened: NodeDatabase) {
  const identity = await loadIdentity(opened.config.identityDir);
  const partners = await loadPartners(opened.config.identityDir);
  const ring = new KeyRing();
  await ring.addAttestations(identity.party, identity.caCertPem, identity.attestations);
  for (const p of partners) await ring.addAttestations(p.party, p.caCertPem, p.attestations);
  const dataKey = dataKeyOf(opened.config.identityDir, false);
  return nodeDomainContext({
    db: opened.db,
    identity,
    ...(dataKey ? { dataKey } : {}),
    partner: (party) => partners.find((p) => p.party === party),
    keyRing: () => ring,
  });
}

/** Queue depth, oldest pending and last contact of each partner, from the node's records. */
async function partnerStatus(opened: NodeDatabase) {
  const partners = await loadPartners(opened.config.identityDir);
  const suspended = new Set(listSuspensions(opened.config.identityDir).map((s) => s.party));
  const rows = [];
  for (const p of partners) {
    const outbox = opened.db.collection<{ partner: string; state: string; enqueuedAt: Date; seq: number; lastErrorCode?: string }>("outbox");
    const depth = await outbox.countDocuments({ partner: p.party, state: "pending" });
    const oldest = await outbox.find({ partner: p.party, state: "pending" }).sort({ seq: 1 }).limit(1).next();
    const lastReceived = await opened.db
      .collection<{ senderParty: string; receivedAt?: Date }>("envelopes_received")
      .find({ senderParty: p.party, state: "recorded" })
      .sort({ receivedAt: -1 })
      .limit(1)
      .next();
    const lastDelivered = await outbox.find({ partner: p.party, state: { $in: ["delivered", "rejected"] } }).sort({ seq: -1 }).limit(1).next();
    const contacts = [lastReceived?.receivedAt, (lastDelivered as { deliveredAt?: Date } | null)?.deliveredAt].filter((d): d is Date => d instanceof Date);
    const lastContact = contacts.length ? new Date(Math.max(...contacts.map((d) => d.getTime()))) : undefined;
    rows.push({
      party: p.party,
      endpoint: p.endpoint,
      state: suspended.has(p.party) ? "suspended" : "active",
      outboxDepth: depth,
      oldestPending: oldest?.enqueuedAt?.toISOString() ?? null,
      // Why the oldest pending message has not gone yet (the partner's code, e.g. STORAGE_FULL).
      lastError: oldest?.lastErrorCode ?? null,
      lastContact: lastContact?.toISOString() ?? null,
    });
  }
  return rows;
}

export function registerOperationsCommands(program: Command): void {
  const partnerCommand = program.commands.find((c) => c.name() === "partner");
  if (partnerCommand) {
    dbOptions(partnerCommand.command("status").description("each partner's outbox depth, oldest pending message and last contact"))
      .option("--json", "machine-readable output")
      .action(async (opts: { config: string; uri?: string; json?: boolean }) => {
        await withNodeDatabase(opts, async (opened) => {
          const rows = await partnerStatus(opened);
          if (opts.json) return printJson(rows);
          printTable([
            ["PARTY", "STATE", "OUTBOX", "OLDEST PENDING", "LAST ERROR", "LAST CONTACT", "ENDPOINT"],
            ...rows.map((r) => [r.party, r.state, String(r.outboxDepth), r.oldestPending ?? "-", r.lastError ?? "-", r.lastContact ?? "-", r.endpoint]),
          ]);
        });
      });
  }

  const officer = program.command("officer").description("officers of this node (local accounts with roles)");
  dbOptions(
    officer
      .command("add")
      .description("add an officer; prints a generated password once unless --password-file is given")
      .requiredOption("--username <name>", "login name")
      .requiredOption("--display-name <text>", "name shown in the console and inside signed messages")
      .addOption(new Option("--role <role...>", `one or more of ${ROLES.join(", ")}`).makeOptionMandatory()),
  )
    .option("--password-file <file>", "file holding the initial password (at least 12 characters)")
    .action(async (opts: { config: string; uri?: string; username: string; displayName: string; role: string[]; passwordFile?: string }) => {
      const roles = opts.role.filter(isRoleName);
      if (roles.length !== opts.role.length) throw new LiaisonError("INVALID_ARGUMENT", `roles must be among ${ROLES.join(", ")}`);
      const { password, generated } = passwordFrom(opts.passwordFile);
      await withNodeDatabase(opts, async ({ db }) => {
        const store = new OfficerStore({ db });
        await store.init();
        // The ledger entry "officer.added" is written by the node (at its next start if stopped).
        const doc = await store.create({ username: opts.username, displayName: opts.displayName, roles, password }, "cli");
        print(`added officer ${doc.username} (${doc._id}) with roles ${doc.roles.join(", ")}`);
        if (generated) print(`initial password (shown once; give it to the officer in person): ${password}`);
      });
    });
  dbOptions(officer.command("list").description("list officers")).option("--json", "machine-readable output").action(
    async (opts: { config: string; uri?: string; json?: boolean }) => {
      await withNodeDatabase(opts, async ({ db }) => {
        const list = await new OfficerStore({ db }).list();
        const rows = list.map((o) => ({ officerId: o._id, username: o.username, displayName: o.displayName, roles: o.roles, disabled: o.disabled }));
        if (opts.json) return printJson(rows);
        printTable([["USERNAME", "NAME", "ROLES", "STATE", "ID"], ...rows.map((r) => [r.username, r.displayName, r.roles.join(","), r.disabled ? "disabled" : "active", r.officerId])]);
      });
    },
  );
  for (const [name, disabled] of [["disable", true], ["enable", false]] as const) {
    dbOptions(officer.command(name).description(`${name} an officer's account`).argument("<username>", "login name")).action(
      async (username: string, opts: { config: string; uri?: string }) => {
        await withNodeDatabase(opts, async ({ db }) => {
          const store = new OfficerStore({ db });
          const found = (await store.list()).find((o) => o.username.toLowerCase() === username.toLowerCase());
          if (!found) throw new LiaisonError("NOT_FOUND", `no officer ${username}`);
          await store.setDisabled(found._id, disabled, "cli");
          print(`${name}d ${found.username}`);
        });
      },
    );
  }
  dbOptions(
    officer
      .command("reset-password")
      .description("set a new password (generated and shown once unless --password-file), clear the lockout")
      .argument("<username>", "login name"),
  )
    .option("--password-file <file>", "file holding the new password")
    .action(async (username: string, opts: { config: string; uri?: string; passwordFile?: string }) => {
      const { password, generated } = passwordFrom(opts.passwordFile);
      await withNodeDatabase(opts, async ({ db }) => {
        const store = new OfficerStore({ db });
        const found = (await store.list()).find((o) => o.username.toLowerCase() === username.toLowerCase());
        if (!found) throw new LiaisonError("NOT_FOUND", `no officer ${username}`);
        checkPasswordPolicy(password, found.username);
        await store.officers.updateOne({ _id: found._id }, { $set: { passwordHash: await hashPassword(password), failedLogins: 0 }, $unset: { lockedUntil: "" } });
        print(`password of ${found.username} reset`);
        if (generated) print(`new password (shown once): ${password}`);
      });
    });

  const minutes = program.command("minutes").description("minutes of ministerial meetings");
  dbOptions(
    minutes
      .command("export")
      .description("write a self-contained bundle (envelopes, co-signatures, attestations, CA certificates, inclusion proofs)")
      .requiredOption("--id <message-id>", "the minutes' message id")
      .requiredOption("--out <file>", "bundle file to write"),
  ).action(async (opts: { config: string; uri?: string; id: string; out: string }) => {
    await withNodeDatabase(opts, async (opened) => {
      const bundle = await exportMinutesBundle(await domainOf(opened), opts.id);
      writeFileSync(opts.out, JSON.stringify(bundle, null, 2) + "\n");
      print(`wrote ${opts.out}`);
    });
  });
  minutes
    .command("verify")
    .description("check a minutes bundle offline, with no node: signatures, attestations, hashes, inclusion proofs")
    .argument("<bundle>", "bundle file")
    .option("--fingerprint <party=sha256...>", "expected CA fingerprint of a party (repeatable)")
    .option("--allow-incomplete", "accept minutes not yet signed by every party")
    .option("--json", "machine-readable report")
    .action(async (file: string, opts: { fingerprint?: string[]; allowIncomplete?: boolean; json?: boolean }) => {
      let bundle: unknown;
      try {
        bundle = JSON.parse(readFileSync(file, "utf8"));
      } catch (cause) {
        throw new LiaisonError("INVALID_ARGUMENT", `${file} is not a JSON minutes bundle`, { cause });
      }
      const trusted: Record<string, string> = {};
      for (const pair of opts.fingerprint ?? []) {
        const at = pair.indexOf("=");
        if (at <= 0) throw new LiaisonError("INVALID_ARGUMENT", `--fingerprint expects PARTY=SHA256, got "${pair}"`);
        trusted[pair.slice(0, at)] = pair.slice(at + 1).replace(/:/g, "").toLowerCase();
      }
      const report = await verifyMinutesBundle(bundle as never, { trustedCaFingerprints: trusted, allowIncomplete: opts.allowIncomplete ?? false });
      if (opts.json) return printJson(report);
      print(`OK: minutes ${report.minutesMessageId} (meeting ${report.meetingNumber}, host ${report.host})`);
      print(`co-signed by ${report.cosignatures.map((c) => c.party).join(", ")}${report.missing.length ? `; missing ${report.missing.join(", ")}` : "; complete"}`);
      print(`inclusion proofs verified: ${report.inclusionProofsVerified}`);
      printTable([["PARTY", "CA FINGERPRINT"], ...Object.entries(report.caFingerprints).map(([p, f]) => [p, f])]);
    });

  const views = program.command("views").description("the domain views (notices, cases, campaigns, minutes), derived from the records");
  dbOptions(views.command("rebuild").description("drop every view and rebuild it from the recorded envelopes (stop the node first)")).action(
    async (opts: { config: string; uri?: string }) => {
      await withNodeDatabase(opts, async (opened) => {
        const ctx = await domainOf(opened);
        await dropViews(ctx);
        const n = await rebuildViews(ctx, recordedEnvelopes(opened.db));
        print(`rebuilt the views from ${n} recorded envelopes`);
      });
    },
  );
}
