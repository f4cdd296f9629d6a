// The shown run's analytics: the latest statistics each plugin published for it (statistics,
// velocity, trend, ...). The initial state comes from GET /api/runs/{id}/analytics, then
// `analytics` messages replace a plugin's figures as they arrive (about once a second per
// active run). A pushed message is never overwritten by an older REST answer.
//
// Events: 'change' whenever anything moved.
import * as api from './api.js';

export class RunAnalytics extends EventTarget {
  constructor() {
    super();
    this.sessionId = null;
    /** plugin name -> its latest stats object */
    this.stats = {};
    this.generation = 0;
    /** 'none' | 'loading' | 'loaded' | 'error' */
    this.state = 'none';
    this.live = new Set();  // plugins heard over the socket since open()
    this.updatedAt = 0;
  }

  /** Starts over for a run (null: no run shown) and fetches its current analytics. */
  async open(sessionId) {
    const generation = ++this.generation;
    this.sessionId = sessionId;
    this.stats = {};
    this.live = new Set();
    this.state = sessionId ? 'loading' : 'none';
    this.changed();
    if (!sessionId) return;
    try {
      const r = await api.getAnalytics(sessionId);
      if (generation !== this.generation) return;
      for (const [plugin, stats] of Object.entries((r && r.stats) || {})) {
        if (!this.live.has(plugin) && stats && typeof stats === 'object') this.stats[plugin] = stats;
      }
      this.state = 'loaded';
    } catch (e) {
      if (generation !== this.generation) return;
      this.state = 'error';
      console.warn(`analytics of ${sessionId}:`, e.message);
    }
    this.updatedAt = Date.now();
    this.changed();
  }

  /** An `analytics` message: applied if it is about the shown run. */
  apply(message) {
    if (!this.sessionId || message.session_id !== this.sessionId || !message.plugin) return false;
    if (!message.stats || typeof message.stats !== 'object') return false;
    this.stats[message.plugin] = message.stats;
    this.live.add(message.plugin);
    this.updatedAt = Date.now();
    this.changed();
    return true;
  }

  get(plugin) {
    return this.stats[plugin] || null;
  }

  changed() {
    this.dispatchEvent(new Event('change'));
  }
}
