// @ts-check
// The connection to the desktop: a session from the device credential (POST /auth), then a WebSocket that sends its
// auth frame first, answers and sends heartbeats (browsers cannot send protocol pings; three silent intervals mean a
// dead connection) and reconnects with exponential backoff and full jitter. "online"/"offline" and
// visibilitychange call now() or drop(). Events: "state" (connecting, online, offline, revoked), "open", "frame".
//
// Opened at /admin/chat (loopback only, from the admin UI) the same client is the desktop user's own chat, "This
// desktop": it has no device credential; its session comes from the admin API, which needs the admin cookie, the
// X-Atlas-Admin header and this computer. Its conversations, files and outbox are its own, apart from every phone's.
// Frames are built and parsed by wire.js.
import { CLOSE, authFrame, encodeFrame, parseFrame, pingFrame, pongFrame } from "/wire.js";

/** Whether this page is the desktop user's own chat rather than a paired phone. */
export const AS_DESKTOP = location.pathname === "/admin/chat";

/**
 * The paired device as stored by pair.js (a phone), or the desktop's own chat.
 * @typedef {{ deviceId?: string, deviceCredential?: string, deviceName?: string, desktopName?: string, desktop?: boolean }} Device
 */

/** @typedef {"connecting" | "online" | "offline" | "revoked"} ConnectionState */

/**
 * The identity of the desktop's own chat (null on a phone, which reads its paired device from storage).
 * @returns {Device | null}
 */
export function desktopDevice() {
  return AS_DESKTOP ? { desktop: true, desktopName: "This desktop" } : null;
}

/**
 * A session of "This desktop" from the admin API; signed out of the admin UI, the page goes there to sign in again.
 * @returns {Promise<{ response: Response, json: any }>}
 */
async function desktopSession() {
  const response = await fetch("/admin/api/desktop-session", { method: "POST", headers: { "X-Atlas-Admin": "1" } });
  const json = await response.json().catch(() => ({}));
  if (response.status === 401) location.assign("/admin");
  return { response, json };
}

export class Connection extends EventTarget {
  /** @param {Device} device */
  constructor(device) {
    super();
    this.device = device;
    /** @type {ConnectionState} */
    this.state = "offline";
    /** @type {WebSocket | null} */
    this.ws = null;
    /** @type {string | null} */
    this.token = null;
    this.expires = 0;
    this.attempt = 0;
    this.heartbeatMs = 15000;
    this.stopped = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.retryTimer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.timer = undefined;
    this.lastReceived = 0;
  }

  /** @returns {Promise<string>} */
  async session() {
    if (this.token && Date.now() < this.expires - 120000) return this.token;
    const { response, json } = this.device.desktop ? await desktopSession() : await this.deviceSession();
    if (!response.ok) throw Object.assign(new Error(json?.error?.message ?? `HTTP ${response.status}`), { code: json?.error?.code, status: response.status });
    this.token = /** @type {string} */ (json.sessionToken);
    this.expires = Date.parse(json.expiresAt);
    return this.token;
  }

  /** @returns {Promise<{ response: Response, json: any }>} */
  async deviceSession() {
    const response = await fetch("/auth", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ grantType: "device_credential", deviceCredential: this.device.deviceCredential }),
    });
    return { response, json: await response.json().catch(() => ({})) };
  }

  /**
   * An authenticated REST call (the token goes in the Authorization header, never in the URL).
   * @param {string} path
   * @param {RequestInit & { headers?: Record<string, string> }} [options]
   */
  async api(path, options = {}) {
    const token = await this.session();
    return fetch(path, { ...options, headers: { ...(options.headers ?? {}), Authorization: `Bearer ${token}` } });
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  /** Reconnect at once (back online, app visible again). */
  now() {
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.connect();
  }

  /** The browser says it is offline: close the socket; typed messages wait in the outbox. */
  drop() {
    clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = null;
    clearInterval(this.timer);
    ws?.close();
    this.setState("offline");
  }

  /**
   * Sends a frame when online; false when it could not be sent (it waits for the caller's retry).
   * @param {{ type: string, id?: string, re?: string, data?: any }} frame
   */
  send(frame) {
    if (this.state !== "online" || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(encodeFrame(frame));
    return true;
  }

  connect() {
    if (this.stopped || this.ws || !navigator.onLine) {
      if (!navigator.onLine) this.setState("offline");
      return;
    }
    this.setState("connecting");
    const ws = new WebSocket(`wss://${location.host}/ws`);
    this.ws = ws;
    ws.onopen = async () => {
      try {
        const token = await this.session();
        ws.send(encodeFrame(authFrame(`a-${Date.now()}`, token)));
      } catch (error) {
        const code = /** @type {import('./wire.js').CodedError} */ (error).code;
        if (!this.device.desktop && (code === "unauthorized" || code === "revoked")) return this.revoked();
        ws.close();
      }
    };
    ws.onmessage = (event) => this.receive(ws, event.data);
    ws.onclose = (event) => this.closed(ws, event.code);
  }

  /**
   * @param {WebSocket} ws
   * @param {string} text
   */
  receive(ws, text) {
    if (this.ws !== ws) return;
    this.lastReceived = Date.now();
    const frame = parseFrame(text);
    if (!frame) return;
    switch (frame.type) {
      case "auth_success":
        this.attempt = 0;
        this.heartbeatMs = (frame.data?.heartbeatSeconds ?? 15) * 1000;
        this.startHeartbeat(ws);
        this.setState("online");
        this.dispatchEvent(new CustomEvent("open"));
        return;
      case "auth_failed":
        this.token = null;
        return;
      case "ping":
        this.send(pongFrame(/** @type {string} */ (frame.id)));
        return;
      case "pong":
        return;
      default:
        this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
    }
  }

  /**
   * @param {WebSocket} ws
   * @param {number} code
   */
  closed(ws, code) {
    if (this.ws !== ws) return;
    this.ws = null;
    clearInterval(this.timer);
    if (code === CLOSE.revoked) return this.revoked();
    if (code === CLOSE.authFailed || code === CLOSE.sessionExpired) this.token = null;
    this.setState(navigator.onLine ? "connecting" : "offline");
    this.attempt++;
    const ceiling = Math.min(30000, 250 * 2 ** Math.min(this.attempt - 1, 10));
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), Math.random() * ceiling);
  }

  revoked() {
    this.stopped = true;
    this.ws?.close();
    this.ws = null;
    this.setState("revoked");
  }

  /** @param {WebSocket} ws */
  startHeartbeat(ws) {
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      if (Date.now() - this.lastReceived > this.heartbeatMs * 3) {
        ws.close();
        this.closed(ws, 1006);
        return;
      }
      this.send(pingFrame(`p-${Date.now()}`));
    }, this.heartbeatMs);
  }

  /** @param {ConnectionState} state */
  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }
}
