// Campaign progress as an SVG chart: one stacked bar per objective (each party's reported result
// toward the joint target), labelled in the officer's language. The chart is an image with a
// title and a text description (every figure in words); the table beside it holds the same figures.
import { svg, nextId } from "./dom.js";
import { t, formatNumber, formatPercent } from "./i18n.js";

/** Okabe–Ito colours (distinguishable with colour-blindness), with a legible text colour each. */
const PALETTE = [
  ["#0072B2", "#ffffff"],
  ["#D55E00", "#ffffff"],
  ["#009E73", "#ffffff"],
  ["#CC79A7", "#000000"],
  ["#E69F00", "#000000"],
  ["#56B4E9", "#000000"],
];
const WIDTH = 860;
const LABEL_W = 230;
const BAR_X = LABEL_W + 10;
const BAR_W = 430;
const ROW = 58;
const TOP = 40;

const clip = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

/**
 * @param {{ title: string, parties: string[], partyName: (p: string) => string,
 *           objectives: Array<{ metric: string, label: string, target: number, achieved: number, byParty: Record<string, number> }> }} data
 */
export function progressChart({ title, parties, partyName, objectives }) {
  const titleId = nextId("chart-title");
  const descId = nextId("chart-desc");
  const height = TOP + objectives.length * ROW + 6;
  const colour = (i) => PALETTE[i % PALETTE.length];

  const words = objectives.map((o) =>
    t("chart.row", {
      objective: o.label,
      achieved: formatNumber(o.achieved),
      target: formatNumber(o.target),
      percent: o.target ? formatPercent(o.achieved / o.target) : "—",
      parties: parties.map((p) => `${p} ${formatNumber(o.byParty[p] ?? 0)}`).join(", "),
    }),
  );

  const legend = parties.map((party, i) => {
    const x = i * Math.floor(WIDTH / Math.max(parties.length, 1));
    return svg("g", {}, svg("rect", { x, y: 4, width: 14, height: 14, rx: 2, fill: colour(i)[0] }), svg("text", { x: x + 20, y: 16, class: "chart-legend" }, clip(partyName(party) === party ? party : `${party} · ${partyName(party)}`, 40)));
  });

  const rows = objectives.map((o, row) => {
    const y = TOP + row * ROW;
    const scale = Math.max(o.target, o.achieved, 1);
    const px = (v) => (BAR_W * v) / scale;
    let x = BAR_X;
    const segments = parties.map((party, i) => {
      const value = Number(o.byParty[party] ?? 0);
      const w = px(value);
      const seg = svg(
        "g",
        {},
        svg("rect", { x, y: y + 4, width: Math.max(w, 0), height: 24, fill: colour(i)[0] }, svg("title", {}, `${party}: ${formatNumber(value)}`)),
        w >= 34 ? svg("text", { x: x + w / 2, y: y + 21, "text-anchor": "middle", fill: colour(i)[1], class: "chart-value" }, formatNumber(value)) : null,
      );
      x += w;
      return seg;
    });
    const targetX = BAR_X + px(o.target);
    return svg(
      "g",
      { class: "chart-row" },
      svg("text", { x: 0, y: y + 16, class: "chart-label" }, clip(o.label, 34)),
      o.label === o.metric ? null : svg("text", { x: 0, y: y + 32, class: "chart-metric" }, o.metric),
      svg("rect", { x: BAR_X, y: y + 4, width: px(o.target), height: 24, class: "chart-track" }),
      segments,
      o.target
        ? svg(
            "g",
            {},
            svg("line", { x1: targetX, x2: targetX, y1: y, y2: y + 34, class: "chart-target" }),
            svg("text", { x: targetX, y: y + 46, "text-anchor": targetX > BAR_X + BAR_W - 40 ? "end" : "middle", class: "chart-metric" }, t("chart.target", { value: formatNumber(o.target) })),
          )
        : null,
      svg(
        "text",
        { x: BAR_X + BAR_W + 14, y: y + 21, class: "chart-total" },
        `${formatNumber(o.achieved)} / ${formatNumber(o.target)}`,
        o.target ? ` · ${formatPercent(o.achieved / o.target)}` : "",
      ),
    );
  });

  return svg(
    "svg",
    { class: "chart", viewBox: `0 0 ${WIDTH} ${height}`, width: "100%", role: "img", "aria-labelledby": `${titleId} ${descId}`, preserveAspectRatio: "xMinYMin meet" },
    svg("title", { id: titleId }, t("chart.title", { campaign: title })),
    svg("desc", { id: descId }, words.join(" ")),
    legend,
    rows,
  );
}
