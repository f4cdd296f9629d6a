// Fold toggles for the panels a phone does not need open: the statistics beyond current loss
// and completion, and the status bar's figures about the page itself. Each is a real
// <button data-panel-toggle="NAME" aria-expanded aria-controls> in dashboard.html; the panel
// it folds is its closest [data-collapsible] ancestor, which gets data-collapsed="true|false".
// What a collapsed panel hides is up to the CSS, and only on small screens: wide screens show
// the panels whole and the toggles not at all.
//
// Collapsed by default on a phone (narrow, or short: a phone held sideways), open elsewhere.
// Once the user taps a toggle, that choice is kept in localStorage and wins from then on.
// The model panel has a fold toggle of its own (model_panel.js) and takes the same default.

/** A phone, portrait or landscape. */
export const PHONE_QUERY = '(max-width: 480px), (max-height: 480px)';

export function isPhone() {
  return typeof window.matchMedia === 'function' && window.matchMedia(PHONE_QUERY).matches;
}

const storageKey = (name) => `trainscope.panel.${name}.collapsed`;

/** true / false as stored, null when the user never chose (or storage is unavailable). */
function readChoice(name) {
  try {
    const v = window.localStorage.getItem(storageKey(name));
    return v === '1' ? true : v === '0' ? false : null;
  } catch {
    return null;
  }
}

function writeChoice(name, collapsed) {
  try {
    window.localStorage.setItem(storageKey(name), collapsed ? '1' : '0');
  } catch {
    // private mode: the choice lasts as long as the page
  }
}

export class PanelToggle {
  /**
   * @param button   the toggle (data-panel-toggle names it)
   * @param options  {collapsedByDefault}: used while the user has not chosen
   */
  constructor(button, { collapsedByDefault = false } = {}) {
    this.button = button;
    this.name = button.dataset.panelToggle;
    this.panel = button.closest('[data-collapsible]');
    const chosen = readChoice(this.name);
    this.set(chosen === null ? collapsedByDefault : chosen);
    button.addEventListener('click', () => {
      this.set(!this.collapsed);
      writeChoice(this.name, this.collapsed);
    });
  }

  set(collapsed) {
    this.collapsed = collapsed;
    this.panel.dataset.collapsed = String(collapsed);
    this.button.setAttribute('aria-expanded', String(!collapsed));
  }
}

/** Wires every [data-panel-toggle] under `root`; returns {name: PanelToggle}. */
export function initPanelToggles(root = document, { collapsedByDefault = isPhone() } = {}) {
  const toggles = {};
  for (const button of root.querySelectorAll('[data-panel-toggle]')) {
    const t = new PanelToggle(button, { collapsedByDefault });
    toggles[t.name] = t;
  }
  return toggles;
}
