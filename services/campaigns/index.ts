// Joint campaigns: views, aggregated progress and rules.
export {
  getCampaignProgress,
  listCampaigns,
  campaignProgress,
  projectCampaign,
  checkCampaignRules,
  initCampaignViews,
  CAMPAIGNS,
  CAMPAIGN_REPORTS,
  CAMPAIGN_COLLECTIONS,
  METRIC_PATTERN,
  type CampaignsContext,
  type CampaignDoc,
  type CampaignReportDoc,
  type CampaignProgress,
  type ObjectiveProgress,
} from "./view.ts";
