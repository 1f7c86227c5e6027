// The live meeting page: connects the meeting socket to the panes and keeps the status bar
// (socket state, stream state, caption lag) honest.

import { role } from "./dom.js";
import { agoLabel } from "./format.js";
import { LiveSocket } from "./live-socket.js";
import { CaptionsPane, ChatPane, NotesPane, PeoplePane } from "./meeting-panes.js";

const STALE_AFTER_MS = 30_000;

const MEETING_STATES = {
  pending: ["Waiting to connect", "badge-waiting"],
  connecting: ["Connecting", "badge-waiting"],
  live: ["Live", "badge-live"],
  reconnecting: ["Reconnecting", "badge-warning"],
  ended: ["Ended", "badge-ended"],
  failed: ["Failed", "badge-failed"],
};

const STREAM_TEXT = {
  pending: "Stream: waiting for Zoom",
  connecting: "Stream: connecting to Zoom",
  live: "Stream: receiving",
  reconnecting: "Stream: reconnecting to Zoom",
  gap: "Stream: some data may be missing",
  ended: "Stream: meeting ended",
  failed: "Stream: failed",
};

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

class StatusBar {
  constructor(root) {
    this.badge = role(root, "state-badge");
    this.connection = role(root, "connection");
    this.connectionText = role(root, "connection-text");
    this.streamText = role(root, "stream-state");
    this.lastCaption = role(root, "last-caption");
    this.lastCaptionAt = null;
    this.meetingState = root.dataset.state;
    this.finished = false;
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
    if (!(state in MEETING_STATES)) return;
    const [label, badgeClass] = MEETING_STATES[state];
    this.meetingState = state;
    this.badge.textContent = label;
    this.badge.className = `badge ${badgeClass}`;
    this.finished = state === "ended" || state === "failed";
  }

  stream(event) {
    this.streamText.textContent = STREAM_TEXT[event.state] ?? `Stream: ${event.state}`;
    this.streamText.dataset.state = event.state;
    this.meeting(event.state === "gap" ? event.current : event.state);
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

function start() {
  const root = document.getElementById("meeting");
  if (!root || root.dataset.live !== "true") return;
  const meetingId = root.dataset.meetingId;
  const status = new StatusBar(root);
  const captions = new CaptionsPane(root);
  const chat = new ChatPane(root);
  const people = new PeoplePane(root);
  const notes = new NotesPane(root);
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${window.location.host}${root.dataset.socketPath}`;

  const handlers = {
    segment(event, meta) {
      captions.add(event);
      chat.setOrigin(captions.origin ?? 0);
      status.caption(meta);
    },
    chat: (event) => chat.add(event),
    participant: (event) => people.apply(event),
    notes: (event) => notes.show(event),
    state: (event) => status.stream(event),
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
