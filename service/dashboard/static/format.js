// Numbers, dates and labels in the words a desk uses.

const numberFormat = new Intl.NumberFormat("en", { maximumFractionDigits: 2 });

export const pct = (x) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);
export const num = (x) => (x === null || x === undefined ? "–" : numberFormat.format(x));

export function when(iso) {
  if (!iso) return "–";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function day(iso) {
  if (!iso) return "–";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toISOString().slice(0, 10);
}

export function plural(count, singular, many) {
  return `${count} ${count === 1 ? singular : many || `${singular}s`}`;
}

const GRADES = new Set(["A", "B", "C", "D", "E"]);
export const gradeKey = (grade) => (GRADES.has(grade) ? grade : "unrated");

export const interval = (low, high) => `${pct(low)}–${pct(high)}`;

// "based on 11 past verdicts", not "rated (11.09 obs.)": the decayed weight, rounded; records
// from outside (a fact-checker's counts) are said to be part of it.
export function trackRecordText(reliability) {
  if (!reliability.rated) return "no track record yet: shown at the average of its kind";
  const count = Math.max(1, Math.round(reliability.evidence));
  const records = (reliability.reasons || []).some((reason) => reason.feature.startsWith("track_record:record"));
  return records
    ? `based on the equivalent of ${plural(count, "past verdict")}, with published records`
    : `based on ${plural(count, "past verdict")}`;
}

export const CAUSE_TEXT = {
  verdict: "a verdict on this outlet",
  kind_prior: "verdicts on others of its kind",
  record: "its record was edited",
  time_decay: "time passed: old verdicts count less",
};

export function causeText(cause, trigger) {
  return CAUSE_TEXT[cause] || (trigger ? String(trigger).replaceAll(".", " ").replaceAll("_", " ") : "recorded");
}

export const STATUS_LABEL = {
  consensus: "Consensus",
  contested: "Contested",
  uncertain: "Uncertain",
  insufficient: "Insufficient",
  no_reports: "No reports",
  pending: "Pending",
};

export function eventStatus(event) {
  // An event that had no reports and now has a computation queued is pending its first figures.
  const status = event.consensus_status;
  if (event.consensus_stale && (!status || status === "no_reports")) return "pending";
  return status || "no_reports";
}
