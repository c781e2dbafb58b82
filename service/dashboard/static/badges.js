// The small labelled marks every panel shares: grades, consensus statuses, "stale".
import { el } from "./dom.js";
import { STATUS_LABEL, gradeKey } from "./format.js";

export function gradeBadge(grade, meaning) {
  return el("span", { class: `grade grade-${gradeKey(grade)}`, title: meaning || null }, String(grade ?? "–"));
}

export function statusBadge(status) {
  const known = Object.hasOwn(STATUS_LABEL, status) ? status : "unknown";
  return el("span", { class: `badge status-${known}` }, STATUS_LABEL[known] || String(status));
}

export function staleBadge(text, title) {
  return el("span", { class: "badge stale", title }, text);
}
