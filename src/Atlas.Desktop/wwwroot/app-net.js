// The connection to the desktop: a session from the device credential (POST /auth), then a WebSocket that sends its
// auth frame first, answers and sends heartbeats (browsers cannot send protocol pings; three silent intervals mean a
// dead connection) and reconnects with exponential backoff and full jitter. "online"/"offline" and
// visibilitychange call now() or drop(). Events: "state" (connecting, online, offline, revoked), "open", "frame".
export class Connection extends EventTarget {
  constructor(device) {
    super();
    this.device = device;
    this.state = "offline";
    this.ws = null;
    this.token = null;
    this.expires = 0;
    this.attempt = 0;
    this.heartbeatMs = 15000;
    this.stopped = false;
  }

  async session() {
    if (this.token && Date.now() < this.expires - 120000) return this.token;
    const response = await fetch("/auth", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ grantType: "device_credential", deviceCredential: this.device.deviceCredential }),
    });
    const json = await response.json().catch(() => ({}));
    if (!response.ok) throw Object.assign(new Error(json?.error?.message ?? `HTTP ${response.status}`), { code: json?.error?.code, status: response.status });
    this.token = json.sessionToken;
    this.expires = Date.parse(json.expiresAt);
    return this.token;
  }

  /** An authenticated REST call (the token goes in the Authorization header, never in the URL). */
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

  send(frame) {
    if (this.state !== "online" || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify({ v: 1, ...frame }));
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
        ws.send(JSON.stringify({ v: 1, type: "auth", id: `a-${Date.now()}`, data: { token } }));
      } catch (error) {
        if (error.code === "unauthorized" || error.code === "revoked") return this.revoked();
        ws.close();
      }
    };
    ws.onmessage = (event) => this.receive(ws, event.data);
    ws.onclose = (event) => this.closed(ws, event.code);
  }

  receive(ws, text) {
    if (this.ws !== ws) return;
    this.lastReceived = Date.now();
    let frame;
    try { frame = JSON.parse(text); } catch { return; }
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
        this.send({ type: "pong", re: frame.id });
        return;
      case "pong":
        return;
      default:
        this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
    }
  }

  closed(ws, code) {
    if (this.ws !== ws) return;
    this.ws = null;
    clearInterval(this.timer);
    if (code === 4003) return this.revoked();
    if (code === 4001 || code === 4010) this.token = null;
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

  startHeartbeat(ws) {
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      if (Date.now() - this.lastReceived > this.heartbeatMs * 3) {
        ws.close();
        this.closed(ws, 1006);
        return;
      }
      this.send({ type: "ping", id: `p-${Date.now()}` });
    }, this.heartbeatMs);
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }
}
