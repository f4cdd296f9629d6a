// The connection pill in the header: "connected", "reconnecting in N s" (counting down),
// "offline". Its data-state attribute carries the state for tests and styling.

const LABELS = {
  connecting: 'connecting…',
  connected: 'connected',
  reconnecting: 'reconnecting',
  offline: 'offline',
};

export class ConnectionBadge {
  /** @param root element with children [data-role=text] and [data-role=retry] */
  constructor(root, socket) {
    this.root = root;
    this.text = root.querySelector('[data-role=text]');
    this.retryButton = root.querySelector('[data-role=retry]');
    this.socket = socket;
    this.detail = { state: socket.state, retryAt: null };
    this.timer = null;
    socket.addEventListener('state', (e) => this.update(e.detail));
    this.retryButton.addEventListener('click', () => socket.connectNow());
    this.update(this.detail);
  }

  update(detail) {
    this.detail = detail;
    clearInterval(this.timer);
    this.timer = null;
    if (detail.retryAt) this.timer = setInterval(() => this.paint(), 250);
    this.paint();
  }

  paint() {
    const { state, retryAt } = this.detail;
    let text = LABELS[state] || state;
    if (retryAt) {
      const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
      text = state === 'offline' ? `offline · retrying in ${seconds} s` : `reconnecting in ${seconds} s`;
    } else if (state === 'reconnecting') {
      text = 'reconnecting…';
    } else if (state === 'offline' && navigator.onLine === false) {
      text = 'offline (no network)';
    }
    this.root.dataset.state = state;
    this.text.textContent = text;
    this.retryButton.hidden = !(state === 'reconnecting' || state === 'offline') || navigator.onLine === false;
  }
}
