/**
 * The local API (`liaison.v1.LocalApi`): officers' tools and the gateway act on this node through
 * it, on its own listener, authenticated by officer tokens.
 */
import type { LiaisonNode } from "./node.ts";

export interface LocalApiServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface LocalApiOptions {
  host: string;
  port: number;
}

export async function startLocalApi(_node: LiaisonNode, _options: LocalApiOptions): Promise<LocalApiServer | undefined> {
  return undefined;
}
