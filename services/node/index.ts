// Node wiring: configuration and the running node. End-user surface first.
export { startNode, LiaisonNode, type SendOutcome, type PeerCallContext } from "./node.ts";
export { loadNodeConfig, parseNodeConfig, NodeConfigSchema, type NodeConfig } from "./config.ts";
export { PartnerRegistry, suspendPartner, resumePartner, listSuspensions, type Suspension } from "./partners.ts";
export { startLocalApi, LocalApiClient, localApiErrorFrom, METHOD_ACCESS, type LocalApiServer, type LocalApiOptions } from "./local-api.ts";
export { NodeLedger, ledgerOrigin, witnessName } from "./ledger.ts";
export { nodeStoreKey } from "./domain.ts";
