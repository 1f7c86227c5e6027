// The live meeting page: connects the meeting socket to the panes and keeps the status bar
// (socket state, stream state, caption lag) honest.

import { role } from "./dom.js";
import { agoLabel, gapLabel } from "./format.js";
import { LiveSocket } from "./live-socket.js";
import { CaptionsLag, CaptionsPane, ChatPane, PeoplePane } from "./meeting-panes.js";
import { SlidesPane } from "./slides-pane.js";

const STALE_AFTER_MS = 30_000;

const SOCKET_TEXT = {
  connecting: "Connecting…",
  "catching-up": "Catching up…",
  live: "Connected",
  reconnecting: "Reconnecting…",
  "signed-out": "Signed out: sign in again to keep watching",
  forbidden: "You no longer have access to this meeting",
  stopped: "Disconnected",
  ended: "Meeting ended",
};

/** record[key] if the record itself has it (not an inherited name such as "toString"). */
const own = (record, key) => (Object.hasOwn(record, key) ? record[key] : undefined);

/** The JSON a template embedded with json_script under `id`. */
function embeddedJson(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return JSON.parse(node.textContent);
}

class StatusBar {
  /**
   * @param {HTMLElement} root
   * @param {{meeting: Record<string, {label: string, badge: string, finished: boolean}>,
   *          stream: Record<string, string>, gap: string, failed: string,
   *          stop_reasons: Record<string, string>, stop_reason_unknown: string}} names
   *   the state names as the server defines them (presenters.state_names)
   */
  constructor(root, names) {
    this.names = names;
    this.badge = role(root, "state-badge");
    this.connection = role(root, "connection");
    this.connectionText = role(root, "connection-text");
    this.streamText = role(root, "stream-state");
    this.lastCaption = role(root, "last-caption");
    this.lastCaptionAt = null;
    this.meetingState = root.dataset.state;
    this.finished = own(names.meeting, this.meetingState)?.finished ?? false;
    this.countdown = 0;
    setInterval(() => this.tick(), 1000);
  }

  socket(status, detail = {}) {
    clearInterval(this.countdown);
    this.connection.dataset.status = status;
    this.connectionText.textContent = SOCKET_TEXT[status] ?? status;
    if (status === "reconnecting" && detail.delayMs > 0) {
      // Say when the next attempt happens, counting down.
      const at = Date.now() + detail.delayMs;
      const show = () => {
        const left = Math.max(0, Math.ceil((at - Date.now()) / 1000));
        this.connectionText.textContent = `Reconnecting in ${left} s…`;
      };
      show();
      this.countdown = setInterval(show, 1000);
    }
  }

  meeting(state) {
    const shown = own(this.names.meeting, state);
    if (!shown) return;
    this.meetingState = state;
    this.badge.textContent = shown.label;
    this.badge.className = `badge ${shown.badge}`;
    this.finished = shown.finished;
  }

  /** A state event; `origin` is the caption clock's, so a gap's times read as the captions'. */
  stream(event, origin) {
    const text = own(this.names.stream, event.state) ?? `Stream: ${event.state}`;
    const isGap = event.state === this.names.gap;
    const lost = isGap ? gapLabel(event.from_ms, event.to_ms, event.frames_lost, origin) : "";
    // A failure says why (e.g. a server refused by RTMS_ALLOWED_HOSTS), an end what Zoom's
    // stop reason means; textContent: no markup.
    const failure = event.state === this.names.failed && event.detail ? event.detail : "";
    const why = [failure, this.stopText(event)].filter(Boolean).join(". ");
    this.streamText.textContent = lost ? `${text} (${lost})` : why ? `${text}: ${why}` : text;
    this.streamText.dataset.state = event.state;
    // A gap is a state of the stream only: the meeting stays in the state it reports as current.
    this.meeting(isGap ? event.current : event.state);
  }

  /** Zoom's stop reason of a finishing state event, in words ("" for any other event). */
  stopText(event) {
    const final = own(this.names.meeting, event.state)?.finished;
    if (!final || typeof event.stop_reason !== "number") return "";
    const code = String(event.stop_reason);
    const known = own(this.names.stop_reasons, code);
    return known ?? this.names.stop_reason_unknown.replace("{code}", code);
  }

  caption({ replay }) {
    // Replayed captions are old; only captions arriving live say how fresh the stream is.
    if (!replay) this.lastCaptionAt = Date.now();
    this.tick();
  }

  tick() {
    const stale = this.lastCaptionAt !== null && Date.now() - this.lastCaptionAt > STALE_AFTER_MS;
    if (this.lastCaptionAt !== null) {
      this.lastCaption.textContent = `Last caption ${agoLabel(Date.now() - this.lastCaptionAt)}`;
    } else if (!this.finished) {
      this.lastCaption.textContent = "Waiting for new captions";
    } else {
      this.lastCaption.textContent = "No new captions";
    }
    this.lastCaption.classList.toggle("is-stale", stale && !this.finished);
  }
}

/** Whether a refused socket means "signed out", "no access" or just "try again". */
async function classifyFailure(meetingId) {
  try {
    const response = await fetch(`/api/meetings/${meetingId}/segments/?limit=1`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (response.status === 401) return "signed-out";
    if (response.status === 404) return "forbidden";
  } catch {
    // Network down: keep trying.
  }
  return "retry";
}

/**
 * The meeting ended or failed while the page was open: nobody is present or speaking any more,
 * the host's transcription controls have nothing left to control, and the finished page (exports,
 * charts) is one click away. The Zoom panel has no such link on purpose: the finished page is a
 * wide page of downloads and charts, no place for the panel's narrow webview in the Zoom client,
 * and the panel reopened after the meeting is to show the finished meeting itself (issue 20).
 */
function showEnded(root, people) {
  // What the page now shows is a finished meeting (zoomapp-panel.js waits for a new stream).
  root.dataset.live = "false";
  people.end();
  const controls = root.querySelector('[data-role="transcription-choice"]');
  if (controls) controls.hidden = true;
  const finishedLink = root.querySelector('[data-role="finished-link"]');
  if (finishedLink) finishedLink.hidden = false;
}

function start() {
  const root = document.getElementById("meeting");
  if (!root || root.dataset.live !== "true") return;
  const meetingId = root.dataset.meetingId;
  const status = new StatusBar(root, embeddedJson("state-names"));
  const captions = new CaptionsPane(root);
  const lag = new CaptionsLag(root);
  const chat = new ChatPane(root);
  const people = new PeoplePane(root);
  const slides = new SlidesPane(root);
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${window.location.host}${root.dataset.socketPath}`;

  const handlers = {
    segment(event, meta) {
      captions.add(event);
      chat.setOrigin(captions.origin ?? 0);
      status.caption(meta);
    },
    captions: (event) => lag.apply(event),
    chat: (event) => chat.add(event),
    slide(event) {
      slides.setOrigin(captions.origin ?? 0);
      slides.show(event);
    },
    participant: (event) => people.apply(event),
    // The notes pane (notes-pane.js) listens: it also renders the notes of a finished meeting.
    notes: (event) => root.dispatchEvent(new CustomEvent("meeting:notes", { detail: event })),
    state(event) {
      status.stream(event, captions.origin ?? 0);
      // The host's stream controls (rtms-controls.js) listen.
      root.dispatchEvent(new CustomEvent("meeting:state", { detail: event }));
      if (status.finished) showEnded(root, people);
    },
  };
  const socket = new LiveSocket(url, {
    onEvent: (event, meta) => handlers[event.type]?.(event, meta),
    onStatus: (s, detail) => status.socket(s, detail),
    classifyFailure: () => classifyFailure(meetingId),
    // Once the meeting is over and the socket drops there is nothing left to wait for.
    shouldReconnect: () => !status.finished,
  });
  socket.start();
}

start();
