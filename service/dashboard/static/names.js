// Outlet names by slug: the desk reads names, never slugs. Learned from every list that carries
// them; an outlet met only by its slug (a claim's, a figure's) is looked up once.
import { mapLimit } from "./api.js";

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export class OutletNames {
  constructor() {
    this.names = new Map();
    this.missing = new Set(); // slugs whose look-up failed: shown as they are
    this.pattern = null;
  }

  reset() {
    this.names.clear();
    this.missing.clear();
    this.pattern = null;
  }

  learn(slug, name) {
    if (!slug || !name || this.names.get(slug) === name) return;
    this.names.set(slug, name);
    this.pattern = null;
  }

  name(slug) {
    return this.names.get(slug) || slug;
  }

  async resolve(api, slugs) {
    const unknown = [...new Set(slugs)].filter((slug) => slug && !this.names.has(slug) && !this.missing.has(slug));
    await mapLimit(unknown, 4, async (slug) => {
      try {
        const { data } = await api.get(`v1/outlets/${encodeURIComponent(slug)}`);
        this.learn(slug, data.name);
      } catch (_error) {
        this.missing.add(slug);
      }
    });
  }

  // The service's own sentences name outlets by slug: shown with their names instead.
  replaceIn(text) {
    if (!text || !this.names.size) return text || "";
    if (!this.pattern) {
      const slugs = [...this.names.keys()].sort((a, b) => b.length - a.length).map(escape);
      this.pattern = new RegExp(`(?<![\\w-])(${slugs.join("|")})(?![\\w-])`, "g");
    }
    return text.replace(this.pattern, (slug) => this.names.get(slug) || slug);
  }
}
