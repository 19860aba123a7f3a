/**
 * Joint campaigns: the campaign and report views, the progress computed from the reports, and
 * the rules a receiver enforces (docs/PROTOCOL.md §12.3).
 *
 * Progress is derived at read time from the reports: for each party and period (start, end) the
 * report recorded last counts; results add up over periods and parties.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Db } from "mongodb";
import type { Message } from "../../gen/liaison/v1/message_pb.ts";
import type { RecordedEnvelope } from "../exchange/index.ts";
import { LiaisonError } from "../errors/index.ts";

export const CAMPAIGNS = "view_campaigns";
export const CAMPAIGN_REPORTS = "view_campaign_reports";
export const CAMPAIGN_COLLECTIONS: readonly string[] = [CAMPAIGNS, CAMPAIGN_REPORTS];
export const METRIC_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

export interface CampaignsContext {
  db: Db;
  self: string;
}

interface Text {
  lang: string;
  text: string;
}

export interface CampaignDoc {
  /** The campaign id. */
  _id: string;
  messageId: string;
  announcedBy: string;
  name: Text[];
  description: Text[];
  parties: string[];
  crimeAreas: string[];
  startsAt?: Date;
  endsAt?: Date;
  objectives: { metric: string; target: number; description: Text[] }[];
  createdAt: Date;
  ledgerIndex: number;
}

export interface CampaignReportDoc {
  /** The report's message id. */
  _id: string;
  campaignId: string;
  party: string;
  periodStart?: Date;
  periodEnd?: Date;
  results: { metric: string; value: number }[];
  narrative: Text[];
  createdAt: Date;
  ledgerIndex: number;
}

const texts = (list: readonly Text[]): Text[] => list.map((t) => ({ lang: t.lang, text: t.text }));

function refuse(reason: string): never {
  throw new LiaisonError("BUSINESS_RULE", reason);
}

// ---- Rules ---------------------------------------------------------------------------------

/** §12.3 rules on Campaign and CampaignReport; resolves for other bodies. */
export async function checkCampaignRules(message: Message, senderParty: string, ctx: CampaignsContext): Promise<void> {
  const body = message.body;
  if (body.case === "campaign") {
    const c = body.value;
    if (c.campaignId.trim() === "") refuse("a campaign must have a campaign_id");
    if (!c.parties.includes(senderParty)) refuse("the announcing party must be one of the campaign's parties");
    if (new Set(c.parties).size !== c.parties.length) refuse("campaign parties must not repeat");
    for (const r of message.header?.recipientParties ?? []) if (!c.parties.includes(r)) refuse("every recipient of a campaign must be one of its parties");
    const metrics = new Set<string>();
    for (const o of c.objectives) {
      if (!METRIC_PATTERN.test(o.metric)) refuse("an objective metric must match ^[a-z][a-z0-9_]{0,63}$");
      if (metrics.has(o.metric)) refuse("an objective metric must not repeat within a campaign");
      metrics.add(o.metric);
      if (!Number.isFinite(o.target) || o.target < 0) refuse("an objective target must be a non-negative number");
    }
    if (c.startsAt && c.endsAt && timestampDate(c.endsAt) <= timestampDate(c.startsAt)) refuse("a campaign must end after it starts");
    const existing = await ctx.db.collection<CampaignDoc>(CAMPAIGNS).findOne({ _id: c.campaignId }, { projection: { messageId: 1 } });
    if (existing && existing.messageId !== message.header?.messageId) refuse("this campaign_id is already in use");
    return;
  }
  if (body.case === "campaignReport") {
    const r = body.value;
    const campaign = await ctx.db.collection<CampaignDoc>(CAMPAIGNS).findOne({ _id: r.campaignId }, { projection: { parties: 1, objectives: 1 } });
    if (!campaign) refuse("campaign_id does not name a campaign this node knows");
    if (!campaign.parties.includes(senderParty)) refuse("only a party of the campaign may report on it");
    const metrics = new Set(campaign.objectives.map((o) => o.metric));
    for (const result of r.results) {
      if (!metrics.has(result.metric)) refuse("a reported metric must be one of the campaign's objectives");
      if (!Number.isFinite(result.value) || result.value < 0) refuse("a reported value must be a non-negative number");
    }
    if (r.periodStart && r.periodEnd && timestampDate(r.periodEnd) <= timestampDate(r.periodStart)) refuse("a report period must end after it starts");
  }
}

// ---- Projection -----------------------------------------------------------------------------

export async function projectCampaign(record: RecordedEnvelope, ctx: CampaignsContext): Promise<boolean> {
  const header = record.message.header!;
  const createdAt = timestampDate(header.createdAt!);
  const body = record.message.body;
  if (body.case === "campaign") {
    const c = body.value;
    const doc: Omit<CampaignDoc, "_id"> = {
      messageId: record.messageId,
      announcedBy: header.senderParty,
      name: texts(c.name),
      description: texts(c.description),
      parties: [...c.parties],
      crimeAreas: [...c.crimeAreas],
      ...(c.startsAt ? { startsAt: timestampDate(c.startsAt) } : {}),
      ...(c.endsAt ? { endsAt: timestampDate(c.endsAt) } : {}),
      objectives: c.objectives.map((o) => ({ metric: o.metric, target: o.target, description: texts(o.description) })),
      createdAt,
      ledgerIndex: record.ledgerIndex,
    };
    await ctx.db.collection<CampaignDoc>(CAMPAIGNS).updateOne({ _id: c.campaignId }, { $setOnInsert: doc }, { upsert: true });
    return true;
  }
  if (body.case === "campaignReport") {
    const r = body.value;
    const doc: Omit<CampaignReportDoc, "_id"> = {
      campaignId: r.campaignId,
      party: header.senderParty,
      ...(r.periodStart ? { periodStart: timestampDate(r.periodStart) } : {}),
      ...(r.periodEnd ? { periodEnd: timestampDate(r.periodEnd) } : {}),
      results: r.results.map((x) => ({ metric: x.metric, value: x.value })),
      narrative: texts(r.narrative),
      createdAt,
      ledgerIndex: record.ledgerIndex,
    };
    await ctx.db.collection<CampaignReportDoc>(CAMPAIGN_REPORTS).updateOne({ _id: record.messageId }, { $setOnInsert: doc }, { upsert: true });
    return true;
  }
  return false;
}

export async function initCampaignViews(db: Db): Promise<void> {
  await db.collection(CAMPAIGN_REPORTS).createIndex({ campaignId: 1 });
  await db.collection(CAMPAIGNS).createIndex({ createdAt: -1 });
}

// ---- Progress -------------------------------------------------------------------------------

export interface ObjectiveProgress {
  metric: string;
  target: number;
  achieved: number;
  /** achieved / target, 0 when the target is 0. */
  ratio: number;
  byParty: Record<string, number>;
}

export interface CampaignProgress {
  campaign: CampaignDoc;
  objectives: ObjectiveProgress[];
  /** Which reports counted (message ids), per party, in ledger order. */
  reportsCounted: Record<string, string[]>;
}

/** Pure: the progress toward each objective from the campaign's reports. */
export function campaignProgress(campaign: CampaignDoc, reports: readonly CampaignReportDoc[]): CampaignProgress {
  const latest = new Map<string, CampaignReportDoc>();
  for (const r of [...reports].sort((a, b) => a.ledgerIndex - b.ledgerIndex)) {
    if (!campaign.parties.includes(r.party)) continue;
    latest.set(`${r.party}|${r.periodStart?.getTime() ?? ""}|${r.periodEnd?.getTime() ?? ""}`, r);
  }
  const counted = [...latest.values()].sort((a, b) => a.ledgerIndex - b.ledgerIndex);
  const reportsCounted: Record<string, string[]> = {};
  for (const r of counted) (reportsCounted[r.party] ??= []).push(r._id);
  const objectives = campaign.objectives.map((o) => {
    const byParty: Record<string, number> = {};
    for (const party of campaign.parties) byParty[party] = 0;
    for (const r of counted) for (const x of r.results) if (x.metric === o.metric) byParty[r.party] = (byParty[r.party] ?? 0) + x.value;
    const achieved = Object.values(byParty).reduce((a, b) => a + b, 0);
    return { metric: o.metric, target: o.target, achieved, ratio: o.target > 0 ? achieved / o.target : 0, byParty };
  });
  return { campaign, objectives, reportsCounted };
}

export async function getCampaignProgress(db: Db, campaignId: string): Promise<CampaignProgress | undefined> {
  const campaign = await db.collection<CampaignDoc>(CAMPAIGNS).findOne({ _id: campaignId });
  if (!campaign) return undefined;
  const reports = await db.collection<CampaignReportDoc>(CAMPAIGN_REPORTS).find({ campaignId }).toArray();
  return campaignProgress(campaign, reports);
}

export async function listCampaigns(db: Db): Promise<CampaignDoc[]> {
  return db.collection<CampaignDoc>(CAMPAIGNS).find({}).sort({ createdAt: -1 }).toArray();
}
