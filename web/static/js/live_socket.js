// The WebSocket connection to the agent: connects, reconnects with exponential backoff and
// jitter, keeps the shown run subscribed (plus any watched runs: runs overlaid to compare),
// and tracks each one's delivery watermark so a reconnect resumes exactly where the last
// complete flush ended (the agent replays the rest).
//
// Events (it is an EventTarget):
//   'state'   detail {state: 'connecting'|'connected'|'reconnecting'|'offline',
//                     retryAt: ms timestamp of the next attempt or null, failures}
//   'message' detail: the parsed server message (hello, run_started, run_ended,
//                     training_update, error, pong, analytics, alert, ...)
//
// Access: the upgrade carries no token; the browser sends the agent's HttpOnly cookie with
// it. An upgrade the agent refuses (401: the cookie went stale) reaches JS as a bare close,
// the same as an agent that is down, so each failed attempt calls `onAttemptFailed` (the
// page probes a REST route there, whose 401 it can see) before backing off.

/** Backoff policy: 0.5 s doubling to a 30 s cap, each delay scaled by 1 ± 30 %. */
export const BACKOFF = { baseMs: 500, capMs: 30000, jitter: 0.3 };
/** After this many failed attempts in a row the page calls itself offline (and keeps trying). */
export const OFFLINE_AFTER_FAILURES = 6;

/** Delay before reconnect attempt number `attempt` (0-based). `random` returns [0, 1). */
export function backoffDelay(attempt, random = Math.random, policy = BACKOFF) {
  const raw = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(raw * (1 + policy.jitter * (2 * random() - 1)));
}

const PING_INTERVAL_MS = 15000;
/** No frame at all for this long (pings included) means a dead connection. */
const SILENCE_LIMIT_MS = 40000;

export class LiveSocket extends EventTarget {
  /**
   * @param url ws:// URL of the agent's /ws endpoint (never with a token in it).
   * @param options.onAttemptFailed called after each attempt that closed without opening.
   */
  constructor(url, { onAttemptFailed = null } = {}) {
    super();
    this.url = url;
    this.onAttemptFailed = onAttemptFailed;
    this.ws = null;
    this.state = 'connecting';
    this.failures = 0;
    this.retryAt = null;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastFrameAt = 0;
    this.stopped = false;
    /** The shown run: {sessionId, watermark} (watermark = since_seq for a resubscribe). */
    this.subscription = null;
    /** Other subscribed runs (overlays): sessionId -> {sessionId, watermark}. */
    this.watches = new Map();
    this.messagesReceived = 0;
    this.lastReceivedAt = 0;
    this.onOnline = () => this.connectNow();
    this.onOffline = () => {
      this.closeSocket();
      this.setState('offline', null);
    };
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    this.closeSocket();
  }

  /**
   * Subscribes to a run. `sinceSeq`: replay every point with a larger seq (0 = everything);
   * null = live from now. Replaces any earlier subscription.
   */
  subscribe(sessionId, sinceSeq) {
    const previous = this.subscription;
    if (previous && previous.sessionId !== sessionId && !this.watches.has(previous.sessionId)) {
      this.send({ type: 'unsubscribe', session_id: previous.sessionId });
    }
    this.subscription = { sessionId, watermark: sinceSeq };
    this.sendSubscribe(this.subscription);
  }

  unsubscribe() {
    const sub = this.subscription;
    if (sub && !this.watches.has(sub.sessionId)) this.send({ type: 'unsubscribe', session_id: sub.sessionId });
    this.subscription = null;
  }

  /**
   * Subscribes to another run besides the shown one (an overlay), with its own watermark;
   * kept across reconnects until unwatch(). A run is either shown or watched, not both.
   */
  watch(sessionId, sinceSeq) {
    const sub = { sessionId, watermark: sinceSeq };
    this.watches.set(sessionId, sub);
    this.sendSubscribe(sub);
  }

  unwatch(sessionId) {
    if (!this.watches.delete(sessionId)) return;
    if (!this.subscription || this.subscription.sessionId !== sessionId) {
      this.send({ type: 'unsubscribe', session_id: sessionId });
    }
  }

  /** Reconnects at once (user action or the browser coming back online). */
  connectNow() {
    if (this.stopped) return;
    if (this.ws && (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)) return;
    clearTimeout(this.retryTimer);
    this.connect();
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  // --- internals ---

  sendSubscribe(sub) {
    if (!sub) return;
    const message = { type: 'subscribe', session_id: sub.sessionId };
    if (sub.watermark !== null && sub.watermark !== undefined) message.since_seq = sub.watermark;
    this.send(message);
  }

  setState(state, retryAt) {
    this.state = state;
    this.retryAt = retryAt;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, retryAt, failures: this.failures } }));
  }

  connect() {
    if (this.stopped) return;
    if (navigator.onLine === false) {
      this.setState('offline', null);
      return;
    }
    this.setState(this.failures ? this.state : 'connecting', null);
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.failures = 0;
      this.lastFrameAt = Date.now();
      this.setState('connected', null);
      // Resume: the agent replays every point after the watermark of the last complete flush.
      this.sendSubscribe(this.subscription);
      for (const sub of this.watches.values()) this.sendSubscribe(sub);
      this.startPings();
    };
    ws.onmessage = (event) => {
      /** When the newest message arrived (before any parsing): for latency measurements. */
      this.lastReceivedAt = Date.now();
      this.lastFrameAt = this.lastReceivedAt;
      ++this.messagesReceived;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this.track(message);
      this.dispatchEvent(new CustomEvent('message', { detail: message }));
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;  // a socket we already abandoned
      this.ws = null;
      this.stopPings();
      if (!opened) {
        ++this.failures;
        if (this.onAttemptFailed) this.onAttemptFailed();
      }
      this.scheduleReconnect();
    };
    ws.onerror = () => {
      // onclose follows and does the work.
    };
  }

  /** Advances the resume point: only a message without `more` closes a flush. */
  track(message) {
    if (message.type !== 'training_update') return;
    const sub = this.subscription && message.session_id === this.subscription.sessionId ? this.subscription
      : this.watches.get(message.session_id);
    if (!sub) return;
    if (!message.more && Number.isFinite(message.seq)) {
      sub.watermark = Math.max(sub.watermark ?? 0, message.seq);
    }
  }

  scheduleReconnect() {
    if (this.stopped) return;
    if (navigator.onLine === false) {
      this.setState('offline', null);
      return;
    }
    // A dropped good connection retries after ~0.5 s; each failed attempt doubles that.
    const delay = backoffDelay(this.failures);
    const retryAt = Date.now() + delay;
    this.setState(this.failures >= OFFLINE_AFTER_FAILURES ? 'offline' : 'reconnecting', retryAt);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  startPings() {
    this.stopPings();
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
        // Half-open connection: nothing came back, not even pongs. Start over.
        const ws = this.ws;
        this.ws = null;
        this.stopPings();
        if (ws) ws.close();
        ++this.failures;
        this.scheduleReconnect();
        return;
      }
      this.send({ type: 'ping' });
    }, PING_INTERVAL_MS);
  }

  stopPings() {
    clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  closeSocket() {
    this.stopPings();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      try {
        ws.close();
      } catch {
        // already closed
      }
    }
  }
}
