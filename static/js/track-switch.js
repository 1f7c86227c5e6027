// The captions pane's transcript switch: our own captions or Zoom's, when a meeting has both.
// Every caption carries data-source; the list's data-track says which ones CSS shows, and the
// count beside the pane counts those. A link to a caption of the track not shown (a search hit
// of the other track, a note citing it) shows that track, then the caption.

const captionsPane = document.querySelector(".pane-captions");
const list = captionsPane?.querySelector('[data-role="captions"]');
const count = captionsPane?.querySelector('[data-role="caption-count"]');
const buttons = captionsPane?.querySelectorAll('[data-role="track-switch"] button') ?? [];

function show(track) {
  list.dataset.track = track;
  for (const button of buttons) {
    button.setAttribute("aria-pressed", String(button.dataset.track === track));
  }
  const shown = list.querySelectorAll(":scope > .caption").length;
  if (count && (shown || count.textContent)) {
    count.textContent = String(list.querySelectorAll(`:scope > .caption[data-source="${track}"]`).length);
  }
}

function revealTarget() {
  const id = decodeURIComponent(window.location.hash.slice(1));
  const target = id.startsWith("seg-") ? document.getElementById(id) : null;
  if (!target || !list?.contains(target) || target.dataset.source === list.dataset.track) return;
  show(target.dataset.source);
  target.scrollIntoView();
}

for (const button of buttons) button.addEventListener("click", () => show(button.dataset.track));
if (list) {
  revealTarget();
  window.addEventListener("hashchange", revealTarget);
}
