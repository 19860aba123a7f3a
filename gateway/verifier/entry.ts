/**
 * The browser verifier: services/minutes/bundle.ts's `verifyMinutesBundle`, the very code that
 * `liaison minutes verify` runs in Node, compiled for the browser by gateway/verifier/build.ts.
 * This module adds nothing to the checks: it only turns the result into plain data for the page.
 */
import { verifyMinutesBundle, type MinutesBundleReport } from "../../services/minutes/bundle.ts";
import { LiaisonError } from "../../services/errors/index.ts";

export type BrowserVerification =
  | { ok: true; report: Omit<MinutesBundleReport, "cosignatures"> & { cosignatures: Array<{ party: string; kid: string; signingOfficer: string; signedAt?: string }> } }
  | { ok: false; code: string; message: string };

/**
 * Verifies a `liaison-minutes-bundle/v1` (the exact bytes downloaded) with each party's CA pinned
 * by `trustedCaFingerprints` (party → SHA-256 hex) where the node knows it; other parties' CA
 * fingerprints are reported for comparison out of band. Incomplete minutes verify (the report
 * names who is missing); anything else that does not hold is `{ ok: false, code, message }`.
 */
export async function verifyBundle(bytes: Uint8Array, trustedCaFingerprints: Record<string, string>): Promise<BrowserVerification> {
  try {
    const report = await verifyMinutesBundle(bytes, { trustedCaFingerprints, allowIncomplete: true });
    return {
      ok: true,
      report: {
        ...report,
        cosignatures: report.cosignatures.map((c) => ({ party: c.party, kid: c.kid, signingOfficer: c.signingOfficer, ...(c.signedAt ? { signedAt: c.signedAt.toISOString() } : {}) })),
      },
    };
  } catch (error) {
    if (error instanceof LiaisonError) return { ok: false, code: error.code, message: error.message };
    return { ok: false, code: "INTERNAL", message: error instanceof Error ? error.message : String(error) };
  }
}
