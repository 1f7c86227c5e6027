// One meeting's live event stream over a WebSocket that survives drops.
//
// The server replays every stored event after `since`, then pushes new ones, each carrying the
// meeting's sequence number. We always reconnect with since = the last seq delivered to the
// page, and drop anything at or below it, so nothing is shown twice and nothing is missed.
// A ping sent right after connecting is answered after the replay: that pong marks "caught up".

export const EVENT_TYPES = new Set([
  "segment",
  "participant",
  "chat",
  "state",
  "notes",
  "captions",
  "slide",
]);
export const CLOSE_FORBIDDEN = 4403;
// The server ended the session's access (sign-out, deauthorization): never reconnect, and do
// not ask the server why (assistant/services/sessions.py CLOSE_SIGNED_OUT).
export const CLOSE_SIGNED_OUT = 4401;

const PING_EVERY_MS = 20_000;
const PONG_TIMEOUT_MS = 10_000;

/**
 * Delay before reconnect attempt `attempt` (1-based): exponential with "equal jitter", so a
 * crowd of viewers dropped together does not come back together.
 */
export function backoffDelay(attempt, { baseMs = 1000, capMs = 30_000, random = Math.random } = {}) {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Status values passed to onStatus(status, detail):
 *   "connecting"   opening the socket
 *   "catching-up"  open, receiving what was missed
 *   "live"         caught up; events arrive as they happen
 *   "reconnecting" dropped; detail.delayMs until the next attempt
 *   "signed-out" / "forbidden"  fatal; no more attempts
 *   "stopped"      stop() was called
 *   "ended"        dropped after shouldReconnect() said nothing more can arrive
 */
export class LiveSocket {
  /**
   * @param {string} url  ws(s) URL of the meeting socket, without query string
   * @param {object} options
   * @param {(event: object, meta: {replay: boolean}) => void} options.onEvent
   * @param {(status: string, detail?: object) => void} [options.onStatus]
   * @param {() => Promise<"retry"|"signed-out"|"forbidden">} [options.classifyFailure]
   *   asked when a socket is refused before opening (the browser hides the close code then)
   * @param {() => boolean} [options.shouldReconnect] false once nothing more can arrive
   * @param {number} [options.since] last seq the page already shows
   */
  constructor(
    url,
    {
      onEvent,
      onStatus = () => {},
      classifyFailure = async () => "retry",
      shouldReconnect = () => true,
      since = 0,
    },
  ) {
    this.url = url;
    this.shouldReconnect = shouldReconnect;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.classifyFailure = classifyFailure;
    this.lastSeq = since;
    this.attempt = 0;
    this.ws = null;
    this.stopped = false;
    this.caughtUp = false;
    this.timers = { retry: 0, ping: 0, pongDeadline: 0 };
    this.onOnline = () => this.reconnectNow();
  }

  start() {
    this.stopped = false;
    window.addEventListener("online", this.onOnline);
    this.connect();
  }

  stop(status = "stopped") {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    this.clearTimers();
    if (this.ws) this.ws.close(1000);
    this.ws = null;
    this.onStatus(status);
  }

  /** Skip the backoff wait (the browser says the network is back). */
  reconnectNow() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.timers.retry);
    this.connect();
  }

  connect() {
    if (this.stopped) return;
    this.clearTimers();
    this.caughtUp = false;
    this.onStatus(this.attempt ? "reconnecting" : "connecting", { delayMs: 0 });
    const ws = new WebSocket(`${this.url}?since=${encodeURIComponent(this.lastSeq)}`);
    let opened = false;
    this.ws = ws;
    ws.addEventListener("open", () => {
      opened = true;
      this.onStatus("catching-up");
      this.ping();
    });
    ws.addEventListener("message", (message) => this.receive(message.data));
    ws.addEventListener("close", (event) => {
      if (this.ws === ws) this.closed(event.code, opened);
    });
  }

  receive(raw) {
    let event;
    try {
      event = JSON.parse(raw);
    } catch {
      return;
    }
    if (!event || typeof event !== "object") return;
    if (event.type === "pong") {
      this.pong();
      return;
    }
    if (!EVENT_TYPES.has(event.type) || !Number.isInteger(event.seq)) return;
    if (event.seq <= this.lastSeq) return; // already shown (replay overlap)
    this.lastSeq = event.seq;
    this.onEvent(event, { replay: !this.caughtUp });
  }

  ping() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify({ type: "ping" }));
    clearTimeout(this.timers.pongDeadline);
    // A socket that stops answering is dead even if the browser has not noticed yet: give up on
    // it now rather than wait for a closing handshake that may never come.
    const ws = this.ws;
    this.timers.pongDeadline = setTimeout(() => {
      if (this.ws !== ws) return;
      ws.close(4000);
      this.closed(4000, true);
    }, PONG_TIMEOUT_MS);
  }

  pong() {
    clearTimeout(this.timers.pongDeadline);
    if (!this.caughtUp) {
      this.caughtUp = true;
      this.attempt = 0;
      this.onStatus("live");
    }
    clearTimeout(this.timers.ping);
    this.timers.ping = setTimeout(() => this.ping(), PING_EVERY_MS);
  }

  async closed(code, opened) {
    this.ws = null;
    this.clearTimers();
    if (this.stopped) return;
    if (code === CLOSE_SIGNED_OUT) {
      this.stop("signed-out");
      return;
    }
    if (code === CLOSE_FORBIDDEN || !opened) {
      const verdict = await this.classifyFailure().catch(() => "retry");
      if (verdict !== "retry") {
        this.stop(verdict);
        return;
      }
    }
    if (this.stopped) return;
    if (!this.shouldReconnect()) {
      this.stop("ended");
      return;
    }
    this.attempt += 1;
    const delayMs = backoffDelay(this.attempt);
    this.onStatus("reconnecting", { delayMs });
    this.timers.retry = setTimeout(() => this.connect(), delayMs);
  }

  clearTimers() {
    clearTimeout(this.timers.retry);
    clearTimeout(this.timers.ping);
    clearTimeout(this.timers.pongDeadline);
  }
}
