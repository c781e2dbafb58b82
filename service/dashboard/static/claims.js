// Latest claims, newest first: read with order=desc, so the newest are on screen after one load
// whatever the size of the table.
import { gradeBadge, staleBadge } from "./badges.js";
import { View, byId, cell, el } from "./dom.js";
import { pct, when } from "./format.js";

const CLAIMS_SHOWN = 10;

// The reasons a desk editor reads first: the largest shifts away from the baseline, and
// "unrated" whenever it applies; the baseline itself only when nothing else moved the score.
function topReasons(reasons) {
  const shifts = reasons
    .filter((reason) => reason.feature !== "global_baseline")
    .filter((reason) => reason.feature === "unrated" || Math.abs(reason.effect) >= 0.0005)
    .sort((a, b) => (b.feature === "unrated") - (a.feature === "unrated") || Math.abs(b.effect) - Math.abs(a.effect));
  return shifts.length ? shifts.slice(0, 3) : reasons.slice(0, 1);
}

function reasonText(reason, names) {
  const text = names.replaceIn(reason.text);
  if (Math.abs(reason.effect) < 0.0005) return text;
  return `${text} (${reason.effect >= 0 ? "+" : "−"}${Math.abs(reason.effect * 100).toFixed(1)} pts)`;
}

export class ClaimsPanel {
  constructor({ names }) {
    this.names = names;
    this.view = new View();
    this.reset();
  }

  reset() {
    this.claims = [];
    this.view.reset();
    byId("claims-table").querySelector("tbody").replaceChildren();
  }

  async refresh(api) {
    const claims = await api.latest("v1/claims", CLAIMS_SHOWN);
    if (api.closed) return;
    await this.names.resolve(api, claims.map((claim) => claim.outlet_slug));
    if (api.closed) return;
    this.claims = claims;
    this.render();
  }

  render() {
    const names = this.names;
    this.view.draw({ claims: this.claims, names: this.claims.map((claim) => names.name(claim.outlet_slug)) }, () => {
      byId("claims-empty").hidden = this.claims.length > 0;
      byId("claims-table").querySelector("tbody").replaceChildren(
        ...this.claims.map((claim) => {
          const score = claim.score;
          const reasons = score ? topReasons(score.reasons) : [];
          const admiralty = score && score.admiralty;
          return el(
            "tr",
            { "data-claim-id": claim.id },
            cell("Claim", { class: "claim-text title-cell" }, claim.text),
            cell("Outlet", {}, names.name(claim.outlet_slug)),
            cell("Published", {}, when(claim.published_at)),
            cell("Holds up", { class: "num" }, score ? pct(score.probability) : "–"),
            cell(
              "Grade",
              {},
              score ? gradeBadge(score.grade, score.grade_meaning) : "–",
              admiralty ? el("span", { class: "admiralty", title: admiralty.meaning }, admiralty.code) : null,
              claim.score_stale ? staleBadge("re-scoring", "A re-score is queued.") : null,
            ),
            cell(
              "Why",
              { class: "reasons" },
              reasons.length ? el("ul", {}, ...reasons.map((reason) => el("li", {}, reasonText(reason, names)))) : "–",
            ),
          );
        }),
      );
    });
  }
}
