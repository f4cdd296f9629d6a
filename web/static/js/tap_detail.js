// What a title says on hover, reachable without a mouse: an element given a detail (explain())
// shows it in a small popover when it is tapped, clicked, or pressed from the keyboard. The
// title stays for hover. One popover for the page; a tap elsewhere, Escape, a scroll or a
// resize closes it. Controls that cannot act right now are aria-disabled (still focusable and
// tappable) rather than disabled, so their reason can be shown the same way.

let popover = null;
let owner = null;

/** Gives `el` a detail (or removes it: empty text). Sets its title too; cheap to call often. */
export function explain(el, text) {
  const had = el.dataset.detail || '';
  if (had === (text || '')) return;
  if (text) {
    el.dataset.detail = text;
    el.title = text;
  } else {
    delete el.dataset.detail;
    if (el.title === had) el.removeAttribute('title');
  }
  if (owner === el) {
    if (text) show(el);
    else hideDetail();
  }
}

/** Disables or enables a control, keeping it tappable: a tap on it shows `why`. */
export function setUnavailable(button, why, enabledTitle) {
  button.setAttribute('aria-disabled', String(Boolean(why)));
  explain(button, why);
  if (!why && button.title !== enabledTitle) button.title = enabledTitle;
}

/** Whether a control set up by setUnavailable() may act. */
export function isAvailable(button) {
  return button.getAttribute('aria-disabled') !== 'true';
}

/** The open popover's text, or '' (tests and the checklist read it). */
export function shownDetail() {
  return popover && !popover.hidden ? popover.textContent : '';
}

export function hideDetail() {
  if (!popover || popover.hidden) return;
  popover.hidden = true;
  if (owner) owner.removeAttribute('aria-describedby');
  owner = null;
}

function ensurePopover() {
  if (popover) return popover;
  popover = document.createElement('div');
  popover.id = 'tap-detail';
  popover.className = 'tap-detail';
  popover.dataset.testid = 'tap-detail';
  popover.setAttribute('role', 'status');
  popover.hidden = true;
  document.body.append(popover);
  return popover;
}

function show(el) {
  const p = ensurePopover();
  if (owner && owner !== el) owner.removeAttribute('aria-describedby');
  owner = el;
  p.textContent = el.dataset.detail;
  p.hidden = false;
  el.setAttribute('aria-describedby', p.id);
  // Below the element, or above it when the window has no room; never past a side.
  const r = el.getBoundingClientRect();
  const margin = 8;
  const w = p.offsetWidth;
  const h = p.offsetHeight;
  const left = Math.max(margin, Math.min(r.left + r.width / 2 - w / 2, window.innerWidth - w - margin));
  const below = r.bottom + 6;
  const top = below + h + margin <= window.innerHeight ? below : Math.max(margin, r.top - 6 - h);
  p.style.left = `${Math.round(left)}px`;
  p.style.top = `${Math.round(top)}px`;
}

function onClick(e) {
  const el = e.target.closest && e.target.closest('[data-detail]');
  if (!el) return;
  if (owner === el && !popover.hidden) hideDetail();
  else show(el);
}

function onPointerDown(e) {
  if (!owner) return;
  if (owner.contains(e.target) || popover.contains(e.target)) return;
  hideDetail();
}

// In a page (the unit tests import these modules in node, without a document).
if (typeof document !== 'undefined') {
  document.addEventListener('click', onClick);
  document.addEventListener('pointerdown', onPointerDown, true);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') hideDetail();
  });
  // A scroll of the page or of a box holding the element moves it away from its popover
  // (capture: scroll events do not bubble). Other boxes' scrolls (a live list) leave it open.
  document.addEventListener('scroll', (e) => {
    const t = e.target;
    if (owner && (t === document || (t.contains && t.contains(owner)))) hideDetail();
  }, true);
  window.addEventListener('resize', () => hideDetail());
}
