// The Zoom App panel inside the Zoom client: the Apps SDK (vendored, no CDN) for the context
// hand-in, the host's RTMS controls and opening chat links in the system browser. Captions and
// notes come from the dashboard's own scripts (live-meeting.js, notes-pane.js), fed by the
// server session this page opened.

import zoomSdk from "../vendor/zoom-appssdk/0.16.41/sdk.es.js";

const CAPABILITIES = [
  "getAppContext",
  "getMeetingUUID",
  "getUserContext",
  "onMyUserContextChange",
  "startRTMS",
  "stopRTMS",
  "pauseRTMS",
  "resumeRTMS",
  "getRTMSStatus",
  "onRTMSStatusChange",
  "sendMessageToChat",
  "authorize",
  "onAuthorized",
  "openUrl",
];
// startRTMS answers this when the stream already runs: for us that is "started".
const ALREADY_RUNNING = 10308;
const HOST_ROLES = new Set(["host", "co-host", "coHost", "cohost"]);
const CHAT_NOTICE = "Live notes are on for this meeting: captions and notes are being taken.";
const WAIT_POLL_MS = 3000;

const body = document.body;

function csrfToken() {
  return document.querySelector("input[name=csrfmiddlewaretoken]")?.value ?? "";
}

/** Post getAppContext()'s token to the server, which opens the panel session from it. */
async function handInContext() {
  const status = document.querySelector('[data-role="open-status"]');
  try {
    const { context } = await zoomSdk.getAppContext();
    const response = await fetch(body.dataset.contextUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ context }),
    });
    const answer = await response.json();
    if (response.ok && answer.panel) {
      window.location.replace(answer.panel);
      return;
    }
    if (status) status.textContent = answer.error ?? "The panel could not be opened.";
  } catch {
    if (status) status.textContent = "Open this page from the Apps panel of a Zoom meeting.";
  }
}

/** The host's buttons: start, pause, resume and stop the meeting's RTMS stream. */
class RtmsControls {
  constructor(root) {
    this.root = root;
    this.statusText = root.querySelector('[data-role="rtms-status"]');
    this.buttons = Object.fromEntries(
      [...root.querySelectorAll("[data-rtms]")].map((b) => [b.dataset.rtms, b]),
    );
    this.actions = {
      start: () => zoomSdk.startRTMS(),
      pause: () => zoomSdk.pauseRTMS(),
      resume: () => zoomSdk.resumeRTMS(),
      stop: () => zoomSdk.stopRTMS(),
    };
    for (const [name, button] of Object.entries(this.buttons)) {
      button.addEventListener("click", () => this.run(name));
    }
  }

  show(status) {
    this.root.dataset.status = status;
    const labels = {
      started: "Live notes are on",
      resumed: "Live notes are on",
      paused: "Paused",
      connecting: "Starting…",
      stopped: "Off",
    };
    this.statusText.textContent = labels[status] ?? status;
    const on = status === "started" || status === "resumed" || status === "connecting";
    this.buttons.start.disabled = on || status === "paused";
    this.buttons.pause.disabled = !on;
    this.buttons.resume.disabled = status !== "paused";
    this.buttons.stop.disabled = status === "stopped";
  }

  async refresh() {
    try {
      const { rtmsStatus = [] } = await zoomSdk.getRTMSStatus();
      this.show(rtmsStatus.length ? rtmsStatus[rtmsStatus.length - 1].status : "stopped");
    } catch {
      this.show("stopped");
    }
  }

  async run(name) {
    let alreadyRunning = false;
    try {
      await this.actions[name]();
    } catch (error) {
      alreadyRunning = name === "start" && Number(error?.code) === ALREADY_RUNNING;
      if (!alreadyRunning) {
        this.statusText.textContent = `Could not ${name}: ${error?.message ?? "unknown error"}`;
        return;
      }
      console.info("startRTMS: error 10308, RTMS already runs for this meeting: taken as started");
    }
    if (name === "start") {
      this.show("started");
      if (alreadyRunning) this.statusText.textContent = "Live notes are on (they already were)";
      zoomSdk.sendMessageToChat({ message: CHAT_NOTICE }).catch(() => {});
      waitForMeeting((why) => {
        this.show("stopped");
        this.statusText.textContent = why;
      });
    } else {
      await this.refresh();
    }
  }
}

/** In-client Zoom sign-in (PKCE S256): the server makes state and challenge, then trades the code. */
function setUpSignIn() {
  const button = document.querySelector('[data-role="zoom-sign-in"]');
  if (!button) return;
  const post = (url, payload) =>
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(payload ?? {}),
    });
  zoomSdk.onAuthorized(async (event) => {
    if (!event.result) return;
    const response = await post(button.dataset.authorizedUrl, {
      code: event.code,
      state: event.state,
      redirectUri: event.redirectUri,
    });
    button.textContent = response.ok ? "Signed in with Zoom" : "Zoom sign-in failed: try again";
    button.disabled = response.ok;
  });
  button.addEventListener("click", async () => {
    const response = await post(button.dataset.authorizeUrl);
    if (!response.ok) return;
    const { codeChallenge, state } = await response.json();
    await zoomSdk.authorize({ codeChallenge, state }).catch(() => {});
  });
}

let waiting = false;

/** Say why Zoom refused the stream where the panel shows the stream's status. */
function showRefusal(why) {
  const status = document.querySelector('[data-role="rtms-status"]');
  if (status) status.textContent = why;
}

/**
 * Before the stream exists there is nothing to show, and a finished meeting is over: once the
 * server has a stream (a new one, when the host starts live notes again), reload to show it.
 */
function waitForMeeting(onRefused = showRefusal) {
  const shown = document.getElementById("meeting");
  if (waiting || shown?.dataset.live === "true") return;
  waiting = true;
  // Only a refusal from now on is about this wait (the server allows for clock skew).
  const url = `${body.dataset.meetingUrl}?since=${Date.now()}`;
  const poll = async () => {
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      const answer = await response.json();
      if (answer.meeting && String(answer.meeting) !== shown?.dataset.meetingId) {
        window.location.reload();
        return;
      }
      if (answer.refused) {
        // Zoom refused the stream (at the app's limit of concurrent streams): none will come.
        waiting = false;
        onRefused(answer.refused);
        return;
      }
    } catch {
      // Keep polling: the network inside the client can blink.
    }
    setTimeout(poll, WAIT_POLL_MS);
  };
  setTimeout(poll, WAIT_POLL_MS);
}

/** Outside the Zoom client (the demo's preview, a plain browser) Zoom runs no RTMS controls. */
function controlsOutsideZoom() {
  const root = document.querySelector('[data-role="rtms-controls"]');
  if (!root) return;
  root.dataset.status = "outside-zoom";
  root.querySelector('[data-role="rtms-status"]').textContent = "Works in the Zoom client only";
  for (const button of root.querySelectorAll("button")) button.disabled = true;
}

/**
 * The client's own browser loads only the app's allowed domains: a chat link opens in the
 * system browser instead (openUrl), where it would anyway (target=_blank) outside Zoom.
 */
function openChatLinksOutside() {
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a.chat-link") : null;
    if (!link) return;
    event.preventDefault();
    zoomSdk.openUrl({ url: link.href }).catch(() => {});
  });
}

async function start() {
  try {
    await zoomSdk.config({ capabilities: CAPABILITIES, version: "0.16" });
  } catch {
    if (body.dataset.mode === "open") await handInContext();
    else controlsOutsideZoom();
    return;
  }
  openChatLinksOutside();
  if (body.dataset.mode === "open") {
    await handInContext();
    return;
  }
  // In another meeting (or a breakout room) than the session's: open a session for this one.
  try {
    const { meetingUUID, parentUUID } = await zoomSdk.getMeetingUUID();
    const ours = body.dataset.meetingUuid;
    if (meetingUUID && meetingUUID !== ours && parentUUID !== ours) {
      await handInContext();
      return;
    }
  } catch {
    // Outside a meeting the SDK refuses; the server already said what this page shows.
  }
  const controlsRoot = document.querySelector('[data-role="rtms-controls"]');
  if (!controlsRoot) {
    waitForMeeting();
    return;
  }
  setUpSignIn();
  const controls = new RtmsControls(controlsRoot);
  // The role in the context may be stale: the SDK says what the user is now.
  const applyRole = (role) => {
    controlsRoot.hidden = !HOST_ROLES.has(role);
  };
  zoomSdk.getUserContext().then((user) => {
    applyRole(user.role);
    // "Was I mentioned?" looks for the name this participant goes by in the meeting.
    const notes = document.querySelector('[data-role="ai-notes"]');
    if (notes && user.screenName && !notes.dataset.viewerName) notes.dataset.viewerName = user.screenName;
  }).catch(() => {});
  zoomSdk.onMyUserContextChange((event) => applyRole(event.role));
  zoomSdk.onRTMSStatusChange((event) => {
    // The event says the new status; a client that sends getRTMSStatus()'s list shape says it
    // in its last entry.
    const status = event?.status ?? event?.rtmsStatus?.at(-1)?.status;
    if (!status) return;
    controls.show(status);
    if (status === "started") waitForMeeting();
  });
  await controls.refresh();
  waitForMeeting();
}

start();
