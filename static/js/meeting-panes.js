// The panes of the meeting page, fed with live events. Markup mirrors meetings/detail.html.
// Transcript and chat text comes from meeting participants: it only ever reaches the page
// through textContent (see dom.js), never as HTML; a chat line's http(s) URLs become links
// (chat-links.js).

import { chatNodes } from "./chat-links.js";
import { atBottom, h, role } from "./dom.js";
import { clockLabel, clockOrigin, speakerClass } from "./format.js";

// Language names by lower-cased code (the page's "language-names" block; none: the code).
const LANGUAGE_NAMES = (() => {
  const node = document.getElementById("language-names");
  return node ? JSON.parse(node.textContent) : {};
})();
const primarySubtag = (code) => code.split("-")[0].toLowerCase();

/**
 * A list that follows new items while the reader is at the bottom, and waits when not.
 * `counted` says the number the count shows (by default, every item of the list).
 */
class FollowingList {
  constructor(scrollBox, list, empty, count, jumpButton = null, counted = null) {
    this.box = scrollBox;
    this.list = list;
    this.empty = empty;
    this.count = count;
    this.jump = jumpButton;
    this.counted = counted ?? (() => this.list.childElementCount);
    this.follow = true;
    this.unseen = 0;
    this.scrollQueued = false;
    this.box.addEventListener("scroll", () => this.onScroll(), { passive: true });
    this.jump?.addEventListener("click", () => this.jumpToEnd());
  }

  onScroll() {
    this.follow = atBottom(this.box);
    if (this.follow) this.setUnseen(0);
  }

  added(node) {
    this.list.append(node);
    this.empty.hidden = true;
    this.showCount();
    if (this.follow) this.queueScroll();
    else this.setUnseen(this.unseen + 1);
  }

  showCount() {
    this.count.textContent = String(this.counted());
  }

  queueScroll() {
    // One scroll per frame, however many items a replay delivers.
    if (this.scrollQueued) return;
    this.scrollQueued = true;
    requestAnimationFrame(() => {
      this.scrollQueued = false;
      this.box.scrollTop = this.box.scrollHeight;
    });
  }

  jumpToEnd() {
    this.follow = true;
    this.setUnseen(0);
    this.box.scrollTop = this.box.scrollHeight;
  }

  setUnseen(n) {
    this.unseen = n;
    if (!this.jump) return;
    this.jump.hidden = n === 0;
    this.jump.textContent = n ? `Jump to live (${n} new)` : "Jump to live";
  }
}

/**
 * A caption's text. A draft's last `tentative_words` words may still change (the streaming policy
 * has not judged them stable yet): they are set apart, the words before them stay as they are.
 */
function captionText(segment) {
  const words = segment.text.split(/\s+/);
  const draft = segment.final === false;
  const tentative = draft ? Math.min(segment.tentative_words ?? 0, words.length) : 0;
  if (!tentative) return h("p", { className: "caption-text", text: segment.text });
  const stable = words.slice(0, words.length - tentative).join(" ");
  return h("p", { className: "caption-text" }, [
    stable ? `${stable} ` : "",
    h("span", { className: "caption-tentative", text: words.slice(-tentative).join(" ") }),
  ]);
}

/** "Captions are behind": shown while our recogniser's finals come late (a `captions` event). */
export class CaptionsLag {
  constructor(root) {
    this.note = root.querySelector('[data-role="captions-behind"]');
  }

  apply(event) {
    if (!this.note) return;
    this.note.hidden = !event.behind;
    const seconds = Math.round((event.lag_ms ?? 0) / 1000);
    this.note.textContent = event.behind
      ? `Captions are behind by about ${seconds} s: the recogniser is catching up.`
      : "";
  }
}

export class CaptionsPane {
  constructor(root) {
    const list = role(root, "captions");
    // Captions per track (source): the count beside the pane counts the track it shows.
    this.perTrack = new Map();
    this.view = new FollowingList(
      role(root, "captions-scroll"),
      list,
      role(root, "captions-empty"),
      role(root, "caption-count"),
      role(root, "jump-live"),
      () => this.perTrack.get(list.dataset.track) ?? 0,
    );
    const origin = root.dataset.clockOrigin;
    this.origin = origin === undefined ? null : Number(origin);
    this.lastSpeaker = new Map(); // per track (source): the tracks are shown one at a time
    this.byId = new Map(); // provisional segments are replaced when their final text arrives
    this.colours = new Map(); // speaker -> colour class, in order of first appearance
    // The meeting's language: its chosen one, else the commonest so far (the server's), else
    // the first a segment says. Segments in another one are labelled.
    this.language = list.dataset.language ?? "";
  }

  languageLabel(code) {
    if (!code) return "";
    if (!this.language) this.language = code;
    if (primarySubtag(code) === primarySubtag(this.language)) return "";
    return LANGUAGE_NAMES[code.toLowerCase()] ?? code;
  }

  colour(speakerKey) {
    if (!this.colours.has(speakerKey)) {
      this.colours.set(speakerKey, speakerClass(this.colours.size));
    }
    return this.colours.get(speakerKey);
  }

  tally(source, change) {
    this.perTrack.set(source, (this.perTrack.get(source) ?? 0) + change);
  }

  add(segment) {
    const previous = segment.id === undefined ? undefined : this.byId.get(segment.id);
    if (!segment.text) {
      // A final with no text: the recogniser heard no speech after all; its draft goes.
      if (previous) {
        previous.remove();
        this.tally(previous.dataset.source, -1);
        this.view.showCount();
      }
      this.byId.delete(segment.id);
      return;
    }
    if (this.origin === null) this.origin = clockOrigin(segment.start_ms);
    const speakerKey = `${segment.speaker_user_id}:${segment.speaker}`;
    const source = segment.source ?? "native";
    // A replacement keeps its place, so it keeps its place's look (header or not).
    const continued = previous
      ? previous.classList.contains("is-continued")
      : speakerKey === this.lastSpeaker.get(source);
    const meta = h("div", { className: "caption-meta" }, [
      h("span", {
        className: `speaker ${this.colour(speakerKey)}`,
        text: segment.speaker || "Unknown speaker",
      }),
    ]);
    const clock = clockLabel(segment.start_ms, this.origin);
    if (clock) meta.append(h("span", { className: "caption-time", text: clock }));
    const language = this.languageLabel(segment.language ?? "");
    if (language) {
      meta.append(
        h("span", {
          className: "caption-language",
          text: language,
          attrs: { lang: segment.language, title: `Said in ${language}` },
        }),
      );
    }
    const classes = ["caption"];
    if (continued) classes.push("is-continued");
    if (segment.final === false) classes.push("is-provisional");
    const data = { seq: String(segment.seq), source };
    // Its id as the server writes it (#seg-<id>): the notes' "Jump to moment" finds it (moments.js).
    const attrs = segment.id === undefined ? {} : { id: `seg-${segment.id}` };
    if (segment.id !== undefined) data.segmentId = String(segment.id);
    const item = h("li", { className: classes.join(" "), data, attrs }, [
      meta,
      captionText(segment),
    ]);
    if (previous) {
      previous.replaceWith(item);
    } else {
      this.tally(source, 1);
      this.view.added(item);
      this.lastSpeaker.set(source, speakerKey);
    }
    if (segment.id !== undefined) {
      if (segment.final === false) this.byId.set(segment.id, item);
      else this.byId.delete(segment.id);
    }
  }
}

export class ChatPane {
  constructor(root) {
    this.view = new FollowingList(
      role(root, "chat-scroll"),
      role(root, "chat"),
      role(root, "chat-empty"),
      role(root, "chat-count"),
    );
    this.origin = 0;
  }

  setOrigin(origin) {
    this.origin = origin;
  }

  add(line) {
    const meta = h("div", { className: "chat-meta" }, [
      h("span", { className: "chat-sender", text: line.sender || "Unknown sender" }),
    ]);
    const clock = clockLabel(line.at_ms, this.origin);
    if (clock) meta.append(h("span", { className: "chat-time", text: clock }));
    this.view.added(
      h("li", { className: "chat-line", data: { seq: String(line.seq) } }, [
        meta,
        h("p", { className: "chat-text" }, chatNodes(line.text ?? "")),
      ]),
    );
  }
}

export class PeoplePane {
  constructor(root) {
    this.list = role(root, "people");
    this.empty = role(root, "people-empty");
    this.count = role(root, "people-count");
    this.people = new Map(); // user_id -> {name, present, speaking, order}
    this.renderQueued = false;
    this.ended = false;
  }

  /** The meeting is over: nobody is present or speaking now; who stayed reads as the finished page. */
  end() {
    this.ended = true;
    for (const person of this.people.values()) person.speaking = false;
    this.queueRender();
  }

  apply(event) {
    const id = event.user_id;
    let person = this.people.get(id);
    if (!person) {
      person = { name: "", present: true, speaking: false, order: this.people.size };
      this.people.set(id, person);
    }
    if (event.name) person.name = event.name;
    if (event.action === "join") {
      person.present = true;
    } else if (event.action === "leave") {
      person.present = false;
      person.speaking = false;
    } else if (event.action === "speaking") {
      for (const other of this.people.values()) other.speaking = false;
      person.speaking = true;
      person.present = true;
    }
    this.queueRender();
  }

  queueRender() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  render() {
    const people = [...this.people.entries()].sort(
      ([, a], [, b]) => Number(b.present) - Number(a.present) || a.order - b.order,
    );
    const items = people.map(([id, p]) => {
      const [state, status] = this.mark(p);
      return h("li", { className: `person ${state}` }, [
        h("span", { className: "person-dot", attrs: { "aria-hidden": "true" } }),
        h("span", { className: "person-name", text: p.name || `Participant ${id}` }),
        h("span", { className: "person-status", text: status }),
      ]);
    });
    this.list.replaceChildren(...items);
    this.empty.hidden = items.length > 0;
    const present = people.filter(([, p]) => p.present).length;
    if (this.ended) this.count.textContent = people.length ? String(people.length) : "";
    else this.count.textContent = people.length ? `${present} present` : "";
  }

  /** A person's class and status text; once the meeting ended, as the finished page says them. */
  mark(p) {
    if (this.ended) return p.present ? ["is-stayed", "Until the end"] : ["is-left", "Left"];
    if (p.speaking) return ["is-speaking", "Speaking"];
    return p.present ? ["is-present", "Present"] : ["is-left", "Left"];
  }
}
