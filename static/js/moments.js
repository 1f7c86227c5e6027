// "Jump to moment": a link from a note (a decision, an action item, an answer's citation) to the
// caption where it was said. A caption on the page (the live page's, the panel's, the finished
// page's transcript part) is scrolled to and marked in place, with no navigation: the Zoom
// panel stays the panel. Otherwise the link opens the transcript part that holds it (`?at=`),
// which the finished page and the panel both serve.

import { h } from "./dom.js";

const MARK = "is-moment";

/** The caption of segment `segmentId` on this page, if any. */
function captionOf(segmentId) {
  const node = document.getElementById(`seg-${segmentId}`);
  return node?.classList.contains("caption") ? node : null;
}

/** Show the caption's track if the list shows the other one (track-switch.js); true if so. */
function revealTrack(caption) {
  const list = caption.closest('[data-role="captions"]');
  const source = caption.dataset.source;
  if (!list || !source || list.dataset.track === source) return false;
  const button = document.querySelector(`[data-role="track-switch"] button[data-track="${source}"]`);
  if (button) button.click();
  else list.dataset.track = source;
  return true;
}

/** Scroll to a caption and mark it (the mark moves: one moment at a time). */
export function showMoment(caption) {
  revealTrack(caption);
  for (const marked of document.querySelectorAll(`.caption.${MARK}`)) marked.classList.remove(MARK);
  caption.classList.add(MARK);
  caption.tabIndex = -1;
  caption.scrollIntoView({ block: "center" });
  caption.focus({ preventScroll: true });
}

/** The "Jump to moment" link of segment `segmentId`. */
export function momentLink(segmentId) {
  const id = encodeURIComponent(segmentId);
  const link = h("a", {
    className: "jump-link",
    text: "Jump to moment",
    attrs: { href: `?at=${id}#seg-${id}` },
    data: { segment: String(segmentId) },
  });
  link.addEventListener("click", (event) => {
    const caption = captionOf(segmentId);
    if (!caption) return; // another transcript part: the link opens it
    event.preventDefault();
    showMoment(caption);
  });
  return link;
}

// Opened at a moment (?at=<id>#seg-<id>): the browser scrolled to it and marks it (:target),
// unless its track was hidden: then show the track and scroll again.
const opened = /^#seg-(\d+)$/.exec(window.location.hash);
const target = opened ? captionOf(opened[1]) : null;
if (target && revealTrack(target)) target.scrollIntoView({ block: "center" });
