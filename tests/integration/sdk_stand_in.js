// A stand-in for @zoom/appssdk, served in place of the vendored file by the browser test: the
// Zoom client cannot run here. It records every call and answers as the SDK documents.
const calls = [];
window.__sdkCalls = calls;
let rtmsStatus = "stopped";
const statusHandlers = [];
const setStatus = (status) => {
  rtmsStatus = status;
  for (const handler of statusHandlers) handler({ status, rtmsSessionId: "s1", displayName: "", timestamp: Date.now() });
};
const record = (name, result) => (...args) => {
  calls.push(name);
  return typeof result === "function" ? result(...args) : Promise.resolve(result);
};
const sdk = {
  config: record("config", { runningContext: "inMeeting", unsupportedApis: [] }),
  getMeetingUUID: record("getMeetingUUID", () => Promise.resolve({ meetingUUID: document.body.dataset.meetingUuid })),
  getUserContext: record("getUserContext", { role: "host", screenName: "Host", status: "authorized" }),
  onMyUserContextChange: record("onMyUserContextChange", undefined),
  getAppContext: record("getAppContext", { context: "" }),
  getRTMSStatus: record("getRTMSStatus", () =>
    Promise.resolve({ rtmsStatus: [{ rtmsSessionId: "s1", displayName: "", status: rtmsStatus, timestamp: 0 }] }),
  ),
  onRTMSStatusChange: record("onRTMSStatusChange", (handler) => {
    statusHandlers.push(handler);
    return Promise.resolve();
  }),
  // The meeting's stream is already running (the simulator plays it): Zoom answers 10308.
  startRTMS: record("startRTMS", () => {
    const error = new Error("RTMS is already running");
    error.code = 10308;
    setStatus("started");
    return Promise.reject(error);
  }),
  pauseRTMS: record("pauseRTMS", () => { setStatus("paused"); return Promise.resolve({}); }),
  resumeRTMS: record("resumeRTMS", () => { setStatus("started"); return Promise.resolve({}); }),
  stopRTMS: record("stopRTMS", () => { setStatus("stopped"); return Promise.resolve({}); }),
  sendMessageToChat: record("sendMessageToChat", {}),
  authorize: record("authorize", {}),
  onAuthorized: record("onAuthorized", undefined),
  // The client opens the URL in the system browser; the page stays as it is.
  openUrl: record("openUrl", ({ url }) => {
    window.__openedUrls = [...(window.__openedUrls ?? []), url];
    return Promise.resolve({ message: "success" });
  }),
};
export default sdk;
