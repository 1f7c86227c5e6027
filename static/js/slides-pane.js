// The live page's current slide: each `slide` event (services/slides.py) shows its picture; the
// same slide comes again with its title once its text is read.

import { role } from "./dom.js";
import { clockLabel } from "./format.js";

export class SlidesPane {
  constructor(root) {
    this.figure = root.querySelector('[data-role="current-slide"]');
    this.empty = root.querySelector('[data-role="slides-empty"]');
    this.latestId = null;
    this.origin = 0;
  }

  setOrigin(origin) {
    this.origin = origin;
  }

  show(slide) {
    if (!this.figure) return;
    // A late title for an older slide must not replace the one on screen now.
    if (this.latestId !== null && slide.id < this.latestId) return;
    this.latestId = slide.id;
    const link = role(this.figure, "current-slide-link");
    const image = role(this.figure, "current-slide-image");
    const caption = role(this.figure, "current-slide-caption");
    link.href = slide.image_url;
    image.src = slide.image_url;
    const when = clockLabel(slide.at_ms, this.origin);
    const name = slide.title || "Slide";
    image.alt = `${name}${when ? ` (${when})` : ""}`;
    caption.textContent = `${name}${when ? ` · ${when}` : ""}${slide.sharer ? ` · ${slide.sharer}` : ""}`;
    this.figure.hidden = false;
    if (this.empty) this.empty.hidden = true;
  }
}
