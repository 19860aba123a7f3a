// Minutes bundles checked in the officer's browser. The checks are the node's own: /assets/verifier.js
// is services/minutes/bundle.ts (what `liaison minutes verify` runs) compiled for the browser by the
// gateway (gateway/verifier/). Each party's CA is pinned to the fingerprint this node knows for it
// (GET /api/trust/ca-fingerprints); a party the node does not know is reported for comparison.
import { h } from "./dom.js";
import { t, formatDateTime, formatNumber } from "./i18n.js";
import { get, getBytes } from "./api.js";

let verifier;
const loadVerifier = () => (verifier ??= import("/assets/verifier.js").catch((err) => {
  verifier = undefined;
  throw err;
}));

/** The fingerprints this node knows: party → SHA-256 hex (its partners', and its own when known). */
export async function knownFingerprints() {
  const trust = await get("/api/trust/ca-fingerprints");
  return { party: trust.party, pins: { ...trust.partners, ...(trust.ownFingerprint ? { [trust.party]: trust.ownFingerprint } : {}) } };
}

/** Downloads the bundle of `minutesId` and verifies its exact bytes here: { ok, report } or { ok: false, code, message }. */
export async function verifyMinutesBundle(minutesId, pins) {
  const [mod, bytes] = await Promise.all([loadVerifier(), getBytes(`/api/minutes/${encodeURIComponent(minutesId)}/bundle`)]);
  return mod.verifyBundle(bytes, pins);
}

const EXPLAINED = new Set(["ENVELOPE_MALFORMED", "SIGNATURE_INVALID", "ALGORITHM_NOT_ALLOWED", "ATTESTATION_INVALID", "FINGERPRINT_MISMATCH", "KEY_UNKNOWN", "KEY_NOT_VALID_AT_TIME", "BUSINESS_RULE", "PROOF_INCONSISTENT"]);

const shortHex = (hex) => `${hex.slice(0, 16)}…${hex.slice(-8)}`;

function pinLabel(party, fingerprint, trust) {
  const pinned = trust.pins[party];
  if (!pinned) return h("span.chip.pending", {}, t("verify.unpinned"));
  // A pinned party's CA matched (or the verifier refused the bundle: FINGERPRINT_MISMATCH).
  return h("span.chip.receipted", { title: fingerprint }, party === trust.party ? t("verify.own") : t("verify.pinned"));
}

/** What the browser checked, for a bundle that verified. */
function details(report, trust) {
  const signed = report.cosignatures.map((c) =>
    h("li", {}, t("verify.cosignature", { party: c.party, officer: c.signingOfficer || "—", time: formatDateTime(c.signedAt), kid: c.kid.slice(0, 12) })),
  );
  return h(
    "details.verify-details",
    {},
    h("summary", {}, t("verify.how")),
    h("p.small", {}, t("verify.envelopes")),
    h("p.small", {}, t("verify.minutesHash"), " ", h("code.hash", {}, report.minutesSha256)),
    h("ul.small", {}, signed),
    h("p.small", {}, t("verify.proofs", { count: formatNumber(report.inclusionProofsVerified) })),
    h(
      "table.data.small",
      {},
      h("caption", {}, t("verify.caHeading")),
      h("tbody", {}, Object.entries(report.caFingerprints).map(([party, fp]) => h("tr", {}, h("th", { scope: "row" }, party), h("td", {}, h("code.hash", { title: fp }, shortHex(fp))), h("td", {}, pinLabel(party, fp, trust))))),
    ),
  );
}

/** The badge while the browser checks. */
export function checkingBadge() {
  return h("span.chip.pending.badge-checking", {}, t("verify.checking"));
}

/** The badge and its explanation for a verification result (or the error that prevented one). */
export function verificationBadge(result, trust, error) {
  if (error) return [h("span.chip.pending.badge-unavailable", {}, t("verify.unavailable")), h("p.small.muted", {}, error.message || String(error))];
  if (!result.ok) {
    return [
      h("span.chip.rejected.badge-failed", {}, `✗ ${t("verify.failed")}`),
      h("p.small.verify-failure", {}, h("code", {}, result.code), " ", result.message),
      EXPLAINED.has(result.code) ? h("p.small.muted", {}, t(`verify.code.${result.code}`)) : null,
    ];
  }
  const r = result.report;
  const badge = r.complete
    ? h("span.chip.receipted.badge-verified", {}, `✓ ${t("verify.complete")}`)
    : h("span.chip.pending.badge-verified", {}, t("verify.incomplete", { parties: r.missing.join(", ") }));
  return [badge, details(r, trust)];
}
