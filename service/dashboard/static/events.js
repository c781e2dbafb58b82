// Events: the latest events with their consensus status; selecting one opens its consensus.
import { staleBadge, statusBadge } from "./badges.js";
import { View, byId, cell, el } from "./dom.js";
import { day, eventStatus } from "./format.js";

const EVENTS_SHOWN = 25;

export class EventsPanel {
  constructor({ onSelect }) {
    this.onSelect = onSelect;
    this.view = new View();
    this.reset();
  }

  reset() {
    this.events = [];
    this.selected = null;
    this.view.reset();
    byId("events-table").querySelector("tbody").replaceChildren();
  }

  select(id) {
    this.selected = id;
    this.render();
  }

  async refresh(api) {
    const events = await api.latest("v1/events", EVENTS_SHOWN);
    if (api.closed) return;
    this.events = events;
    this.render();
  }

  render() {
    this.view.draw({ events: this.events, selected: this.selected }, () => {
      byId("events-empty").hidden = this.events.length > 0;
      byId("events-table").querySelector("tbody").replaceChildren(
        ...this.events.map((event) => {
          const selected = event.id === this.selected;
          const place = [event.place, event.window_start ? day(event.window_start) : null].filter(Boolean).join(", ");
          const status = eventStatus(event);
          return el(
            "tr",
            { class: selected ? "selected" : null, "data-event-id": event.id },
            cell(
              "Event",
              { class: "title-cell" },
              el(
                "button",
                {
                  type: "button",
                  class: "link",
                  "aria-pressed": selected ? "true" : "false",
                  "data-focus-key": `event:${event.id}`,
                  onclick: () => this.onSelect(event.id),
                },
                event.title,
              ),
              place ? el("div", { class: "note" }, place) : null,
            ),
            cell(
              "Status",
              {},
              statusBadge(status),
              event.consensus_stale && status !== "pending" ? staleBadge("recomputing", "A recomputation is queued.") : null,
            ),
          );
        }),
      );
    });
  }
}
