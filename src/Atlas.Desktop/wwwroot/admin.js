// @ts-check
// The admin UI: redeems the one-time code from the fragment for an HttpOnly cookie, then follows the desktop live: the
// server-sent events of /admin/api/events name what changed (devices, pairing, media) and the page fetches just that.
// A phone waiting for approval gets a banner at the top, a spoken announcement, focus and a count in the tab title.
/**
 * The element with this id, of the expected type; a page whose markup lacks it is a bug, so this throws saying which
 * (as app-ui.js's byId; the admin page loads no other module).
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new (...args: any[]) => T} type
 * @returns {T}
 */
function byId(id, type) {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`The page has no ${type.name} #${id}.`);
  return node;
}

/** @param {string} id */
const $ = (id) => byId(id, HTMLElement);
const PERMISSIONS = ["chat", "files.read", "files.write", "media.process", "tools"];
const code = new URLSearchParams(location.hash.slice(1)).get("code");
history.replaceState(null, "", location.pathname);

// The admin API's answers (src/Atlas.Desktop/Admin/AdminModels.cs and the records they name, camelCase; a null is
// left out, hence the optional properties). Times are ISO 8601 strings.
/**
 * @typedef {object} PairingView
 * @property {boolean} closed
 * @property {number} recentFailures
 * @property {string} [url]
 * @property {string} [expiresAt]
 * @property {string} fingerprint
 * @property {string} approval "auto", or "prompt" (the default: approve each phone here)
 */
/**
 * @typedef {object} DeviceView
 * @property {string} id
 * @property {string} name
 * @property {string} platform
 * @property {string} status "pending" (waiting for approval), "active", ...
 * @property {string} [checkCode]
 * @property {string[]} permissions
 * @property {number} quotaBytes
 * @property {string} createdAt
 * @property {string} [approvedAt]
 * @property {string} [lastSeenAt]
 * @property {string} [lastAddress]
 * @property {number} connections
 */
/**
 * @typedef {object} AuditEntry
 * @property {number} id
 * @property {string} at
 * @property {string} event
 * @property {string} [deviceId]
 * @property {string} [address]
 * @property {string} [detail]
 */
/**
 * @typedef {object} DesktopState GET /state
 * @property {string} name
 * @property {string} fingerprint
 * @property {string} displayFingerprint
 * @property {boolean} selfSigned
 * @property {string[]} urls
 * @property {string} dataDirectory
 * @property {PairingView} pairing
 * @property {DeviceView[]} devices
 * @property {number} connections
 * @property {AuditEntry[]} events
 */
/**
 * @typedef {object} FailureView
 * @property {string} code
 * @property {string} message
 * @property {string} at
 */
/** @typedef {{ answers: number, tokens: number, cost?: number }} LlmSpendView */
/**
 * @typedef {object} LlmView GET /llm
 * @property {boolean} configured
 * @property {string} provider
 * @property {string} endpoint
 * @property {string} model
 * @property {string} [hint]
 * @property {FailureView & { model?: string }} [lastError]
 * @property {string} [lastAnswerAt]
 * @property {LlmSpendView} today
 * @property {LlmSpendView} total
 */
/** @typedef {{ file: string, field: string, message: string, severity: string }} DiagnosticView */
/**
 * @typedef {object} ServersView GET /servers
 * @property {string} consentFile
 * @property {string} policy
 * @property {ServerRow[]} servers
 * @property {DiagnosticView[]} diagnostics
 */
/** @typedef {{ allowed: number, denied: number, changed: number, pending: number }} ConsentCounts */
/**
 * @typedef {object} ToolConsentView
 * @property {string} status "allowed", "denied", "changed" or "pending"
 * @property {string} [message]
 * @property {string} [decision]
 * @property {string} [pinnedHash]
 * @property {string} [decidedAt]
 * @property {string} [decidedBy]
 */
/**
 * @typedef {{ title?: string, readOnly?: boolean, destructive?: boolean, idempotent?: boolean, openWorld?: boolean }}
 *   ToolAnnotations
 */
/**
 * @typedef {object} ToolView
 * @property {string} name
 * @property {string} exposedName
 * @property {string} [title]
 * @property {string} [description]
 * @property {ToolAnnotations} [annotations]
 * @property {string} hash
 * @property {ToolConsentView} consent
 */
/**
 * @typedef {object} ServerToolsView GET /servers/{id}/tools
 * @property {string} serverId
 * @property {string} [consent]
 * @property {string} source where the list came from; "none" when there is none
 * @property {FailureView} [failure]
 * @property {ToolView[]} tools
 */
/**
 * @typedef {object} MediaJobView
 * @property {string} id
 * @property {string} deviceId
 * @property {string} [deviceName]
 * @property {string} task
 * @property {string} file
 * @property {string} status
 * @property {string} stage
 * @property {number} [fraction]
 * @property {string} [message]
 * @property {string} startedAt
 * @property {number} [durationSeconds]
 * @property {boolean} [fromCache]
 * @property {string} [error]
 */
/**
 * @typedef {object} MediaJobsView GET /media/jobs
 * @property {MediaJobView[]} running
 * @property {MediaJobView[]} queued
 * @property {MediaJobView[]} recent
 * @property {{ directory: string, files: number, bytes: number }} cache
 */
/**
 * @typedef {object} LiveMetricsView GET /metrics
 * @property {string} day
 * @property {{ server: string, calls: number, errors: number, p50?: number | null, p95?: number | null }[]} servers
 * @property {{ model: string, answers: number, inputTokens: number, outputTokens: number, spend: number }[]} models
 * @property {number} tokensToday
 * @property {number} spendToday
 * @property {number} devicesConnected
 * @property {number} mediaQueued
 * @property {number} mediaFinished
 */
/**
 * @typedef {object} TlsView GET /tls (and what POST /tls, /tls/rotate return)
 * @property {string} mode "self-signed" (quick mode), "local-ca" (trusted mode), else a certificate file
 * @property {string} certificateNotAfter
 * @property {string} [authoritySubject]
 * @property {string[]} [permittedNames]
 * @property {string[]} [permittedAddresses]
 * @property {number} revokedDevices
 */

/**
 * An element with these properties (class, handlers, ...) and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Partial<HTMLElementTagNameMap[K]>} [props]
 * @param {...(string | Node)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

/**
 * Calls the admin API; a failure is shown (signed out, or an alert with the error's message) and then thrown.
 * @param {string} path
 * @param {string} [method]
 * @param {unknown} [body] sent as JSON
 * @returns {Promise<any>} the JSON answer (null for 204); its shape is the typedef of that path
 */
async function api(path, method = "GET", body) {
  /** @type {{ method: string, headers: Record<string, string>, body?: string }} */
  const init = { method, headers: { "X-Atlas-Admin": "1" } };
  if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const response = await fetch("/admin/api" + path, init);
  if (response.status === 401) { signedOut(); throw new Error("signed out"); }
  /** @type {{ error?: import('./wire.js').WireError } | null} */
  const json = response.status === 204 ? null : await response.json();
  if (!response.ok) { alert(json?.error?.message ?? `Failed (${response.status})`); throw new Error("failed"); }
  return json;
}

function signedOut() {
  $("main").classList.add("hidden");
  const box = $("signin");
  box.textContent = "Not signed in. Run 'atlas admin' in a terminal and open the link it prints.";
  box.classList.remove("hidden");
}

/** @param {string | null | undefined} t */
function when(t) { return t ? new Date(t).toLocaleString() : "never"; }

/** @param {string} text */
function empty(text) { return el("p", { className: "empty" }, text); }

/**
 * @param {string[]} headers
 * @param {HTMLTableRowElement[]} rows
 */
function table(headers, rows) {
  return el("table", {}, el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { scope: "col" }, h)))), el("tbody", {}, ...rows));
}

/**
 * @param {DeviceView} d
 * @param {"approve" | "deny"} action
 */
function decide(d, action) {
  return api(`/devices/${d.id}/${action}`, "POST").then(refresh).catch(() => {});
}

/** @param {string | undefined} code */
function spaced(code) { return code ? `${code.slice(0, 3)} ${code.slice(3)}` : ""; }

/** @type {PairingView | null} */
let pairing = null;
let announced = new Set();

function renderPairing() {
  const p = pairing;
  if (!p) return;
  const expiresAt = p.expiresAt ? new Date(p.expiresAt) : null;
  const left = expiresAt ? Math.max(0, Math.round((expiresAt.getTime() - Date.now()) / 1000)) : 0;
  const open = p.url && expiresAt && left > 0 ? { url: p.url, expiresAt } : null;
  const state = $("pairing-state");
  state.textContent = p.closed
    ? `Pairing is CLOSED after ${p.recentFailures} failed attempts. Make a new QR code to reopen it.`
    : open ? `Valid until ${open.expiresAt.toLocaleTimeString()} (${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")} left), single use.`
      + (p.approval === "auto" ? " Phones are approved at once (approval: auto)." : " You approve each phone here.")
    : "No QR code is open (the last one expired or was used). Make a new one to pair a phone.";
  state.className = p.closed || p.recentFailures > 0 ? "error" : "";
  if (!p.closed && p.recentFailures > 0) state.textContent += ` ${p.recentFailures} recent failed attempts.`;
  $("pair-url").textContent = open ? open.url : "";
  const qr = byId("qr", HTMLImageElement);
  if (open && qr.dataset.url !== open.url) { qr.src = "/admin/api/qr.svg?" + Date.now(); qr.dataset.url = open.url; }
  qr.classList.toggle("hidden", !open);
}

/** @param {DeviceView[]} waiting */
function renderApprovals(waiting) {
  const banner = $("approval-banner");
  const list = $("approval-list");
  list.replaceChildren(...waiting.map((d) => {
    const row = el("div", { className: "request" },
      el("span", { className: "who" }, `${d.name} (${d.platform})`),
      el("span", {}, "Check code ", el("span", { className: "code" }, spaced(d.checkCode))),
      el("span", {},
        el("button", { onclick: () => decide(d, "approve") }, "Approve"), " ",
        el("button", { className: "danger", onclick: () => decide(d, "deny") }, "Deny")),
      el("p", { className: "steps" }, "Approve only if the phone shows the same check code. From a terminal: ",
        el("span", { className: "mono" }, `atlas devices approve ${d.id}`)));
    row.dataset.deviceId = d.id;
    const [approve, deny] = row.querySelectorAll("button");
    approve.setAttribute("aria-label", `Approve ${d.name}`);
    deny.setAttribute("aria-label", `Deny ${d.name}`);
    return row;
  }));
  banner.classList.toggle("hidden", waiting.length === 0);
  $("approval-title").textContent = waiting.length > 1 ? `${waiting.length} phones are waiting for your approval` : "A phone is waiting for your approval";
  document.title = waiting.length ? `(${waiting.length}) Approval needed — Atlas admin` : "Atlas admin";
  const fresh = waiting.filter((d) => !announced.has(d.id));
  announced = new Set(waiting.map((d) => d.id));
  if (fresh.length) {
    $("announce").textContent = fresh.map((d) => `${d.name} wants to pair. Check code ${spaced(d.checkCode)}.`).join(" ");
    const active = document.activeElement;
    if (!active || active === document.body || !banner.contains(active)) $("approval-title").focus();
  }
}

/** @param {DesktopState} state */
function render(state) {
  $("name").textContent = state.name;
  $("fingerprint").textContent = state.displayFingerprint;
  $("urls").textContent = state.urls.join("  ");
  $("live").textContent = `${state.connections} live connection(s)`;
  pairing = state.pairing;
  renderPairing();

  const waiting = state.devices.filter((d) => d.status === "pending");
  renderApprovals(waiting);
  $("pending").replaceChildren(waiting.length
    ? table(["Device", "Check code", "Address", ""], waiting.map((d) => el("tr", {},
      el("td", {}, `${d.name} (${d.platform})`),
      el("td", { className: "code" }, d.checkCode ?? ""),
      el("td", { className: "mono" }, d.lastAddress ?? ""),
      el("td", {},
        el("button", { onclick: () => decide(d, "approve") }, "Approve"), " ",
        el("button", { className: "secondary", onclick: () => decide(d, "deny") }, "Deny")))))
    : empty(state.pairing.approval === "auto"
      ? "Nothing to approve: phones are approved as soon as they scan the QR code (Atlas:Pairing:Approval is auto)."
      : "No phone is waiting. When a phone scans the QR code it shows up here (and at the top of the page) with its check code."));

  const active = state.devices.filter((d) => d.status === "active");
  $("devices").replaceChildren(active.length
    ? table(["Device", "Permissions", "Last seen", "Live", ""], active.map((d) => el("tr", {},
      el("td", {}, `${d.name} (${d.platform})`, el("br"), el("span", { className: "mono" }, d.id)),
      el("td", {}, ...PERMISSIONS.map((perm) => el("label", {},
        el("input", { type: "checkbox", checked: d.permissions.includes(perm), onchange: (e) => {
          const checked = /** @type {HTMLInputElement} */ (e.target).checked;
          const next = checked ? [...d.permissions, perm] : d.permissions.filter((x) => x !== perm);
          api(`/devices/${d.id}/permissions`, "POST", { permissions: next }).then(refresh);
        } }), ` ${perm} `))),
      el("td", {}, when(d.lastSeenAt), el("br"), d.lastAddress ?? ""),
      el("td", {}, String(d.connections)),
      el("td", {}, el("button", { className: "danger", onclick: () => {
        if (confirm(`Revoke ${d.name}? Its connections close now and it must pair again.`)) api(`/devices/${d.id}/revoke`, "POST").then(refresh);
      } }, "Revoke")))))
    : empty("No phones paired yet. Scan the QR code above with your phone's camera to pair one."));

  const events = state.events.slice(0, 20);
  $("events").replaceChildren(events.length
    ? table(["Time", "Event", "Device", "Address", "Detail"], events.map((e) => el("tr", {},
      el("td", {}, when(e.at)), el("td", {}, e.event), el("td", { className: "mono" }, e.deviceId ?? ""), el("td", {}, e.address ?? ""),
      el("td", {}, e.detail ?? ""))))
    : empty("Nothing has happened yet. Pairings, approvals, revocations and refused attempts are listed here."));
}

// The LLM card: configured or not (and how to fix it), provider and model, the last failed answer, spend.
/** @param {number | null | undefined} cost */
function money(cost) { return cost == null ? "no cost reported" : `$${cost.toFixed(4)}`; }

/** @param {LlmView} v */
function renderLlm(v) {
  /** @param {LlmSpendView} s */
  const spend = (s) => `${s.answers} answer(s), ${s.tokens.toLocaleString()} tokens, ${money(s.cost)}`;
  $("llm").replaceChildren(
    el("p", {}, v.configured ? badge("configured", "connected") : badge("not configured", "failed"), " ",
      v.provider === "openrouter" ? "OpenRouter" : "OpenAI-compatible endpoint"),
    v.configured ? "" : el("p", { className: "empty" }, v.hint ?? ""),
    el("dl", { className: "facts" },
      el("dt", {}, "Model"), el("dd", { className: "mono" }, v.model),
      el("dt", {}, "Endpoint"), el("dd", { className: "mono" }, v.endpoint),
      el("dt", {}, "Last answer"), el("dd", {}, v.lastAnswerAt ? when(v.lastAnswerAt) : "none yet"),
      el("dt", {}, "Today"), el("dd", {}, spend(v.today)),
      el("dt", {}, "In total"), el("dd", {}, spend(v.total)),
      el("dt", {}, "Last error"), v.lastError
        ? el("dd", { className: "error" }, `${v.lastError.code}: ${v.lastError.message} (${when(v.lastError.at)})`)
        : el("dd", {}, "none")));
}

// MCP servers and consent. Listing asks every server for its tools, so it loads on demand (page load, Reload, after a
// decision), not on every status poll.
/** @type {Record<string, string>} */
const STATE_LABEL = { allowed: "allowed", denied: "denied", changed: "changed — needs re-approval", pending: "not approved yet" };
/** @type {Record<string, string>} */
const STATE_CLASS = { allowed: "ok", denied: "error", changed: "note", pending: "note", connected: "ok", failed: "error", idle: "idle", "sign-in-required": "note" };
// A server that is not running is not a problem: the hub starts (or connects to) it when a tool is first used.
/** @type {Record<string, string>} */
const SERVER_STATE = { idle: "starts on first use", "sign-in-required": "sign-in required" };
const openServers = new Set();

/**
 * @param {string} text
 * @param {string} kind a key of STATE_CLASS, or "" for none
 */
function badge(text, kind) { return el("span", { className: `badge ${STATE_CLASS[kind] ?? ""}` }, text); }

/**
 * @param {string} id
 * @param {{ tool?: string, decision: string }} body
 */
function consent(id, body) { return api(`/servers/${encodeURIComponent(id)}/consent`, "POST", body); }

/** The servers view last drawn: an event that changes nothing in it redraws nothing. */
let drawnServers = "";

/**
 * Draws the servers view. Events and the periodic refresh redraw only when the view changed, so the keyboard focus,
 * the open tool tables and what a screen reader is reading stay put; when it does change, the focused control is
 * focused again in the new drawing. After the user changed something, the redraw is forced (a tool's consent is
 * shown in the tool table, not in this view).
 * @param {boolean} [force]
 */
async function loadServers(force = false) {
  /** @type {ServersView} */
  const view = await api("/servers");
  const json = JSON.stringify(view);
  if (!force && json === drawnServers) return;
  drawnServers = json;
  const list = $("servers");
  const focused = focusedServerControl(list);
  $("consent-file").textContent = `Consent file: ${view.consentFile} (policy: ${view.policy})`;
  list.replaceChildren(...(view.servers.length ? view.servers.map(renderServer) : [empty(
    "No MCP servers found. Add one with a manifest in ~/.local/share/mmcp/servers (for example 'atlas media-mcp --mmcp-register'), "
    + "or configure servers in Claude Desktop, VS Code or Cursor, then press Reload.")]));
  $("diagnostics").replaceChildren(...view.diagnostics.map((d) => el("p", {}, `${d.file}: ${d.field}: ${d.message}`)));
  if (focused) {
    const card = [...list.querySelectorAll("details.server")].find((d) => d instanceof HTMLElement && d.dataset.serverId === focused.serverId);
    const again = card && [...card.querySelectorAll(focused.tag)].find((e) => (e.textContent ?? "") === focused.text);
    if (again instanceof HTMLElement) again.focus();
  }
}

/**
 * The control inside a server card that has the keyboard focus, as what finds it again in a new drawing.
 * @param {HTMLElement} list
 * @returns {{ serverId: string, tag: string, text: string } | null}
 */
function focusedServerControl(list) {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || !list.contains(active)) return null;
  const card = active.closest("details.server");
  if (!(card instanceof HTMLElement) || !card.dataset.serverId) return null;
  return { serverId: card.dataset.serverId, tag: active.tagName.toLowerCase(), text: active.textContent ?? "" };
}

/** @param {ServerRow} s */
function renderServer(s) {
  const counts = s.tools;
  const held = [counts.changed && `${counts.changed} changed — needs re-approval`, counts.denied && `${counts.denied} denied`,
    counts.pending && `${counts.pending} not approved yet`].filter(Boolean).join(", ");
  const details = el("details", { className: "server", open: openServers.has(s.id) },
    el("summary", {}, el("strong", {}, s.name), " ", el("span", { className: "mono" }, s.id), " ", badge(SERVER_STATE[s.state] ?? s.state, s.state), " ",
      `${s.toolCount} tool(s)`, held ? " · " : "", held ? el("span", { className: "note" }, held) : "",
      s.consent === "deny" ? " · " : "", s.consent === "deny" ? badge("server denied", "denied") : ""),
    el("p", {}, `From ${s.provenance.label}`, el("br"), `${s.transport.type}: `, el("span", { className: "mono" }, s.transport.summary)),
    s.lastError && !(s.signIn?.signedIn && s.state === "connected" && s.lastError.code === "SignInRequired") ? el("p", { className: "error" }, `Last error (${s.lastError.code}, ${when(s.lastError.at)}): ${s.lastError.message}`) : "",
    s.listError && !s.lastError ? el("p", { className: "error" }, `Listing failed: ${s.listError.message}`) : "",
    s.signIn ? renderSignIn(s) : "",
    renderShadowing(s),
    el("p", { className: "tool-actions" },
      el("button", { onclick: () => consent(s.id, { decision: "allow" }).then(() => loadServers(true)) }, "Allow server"),
      el("button", { className: "danger", onclick: () => consent(s.id, { decision: "deny" }).then(() => loadServers(true)) }, "Deny server"),
      el("button", { className: "secondary", onclick: () => {
        if (confirm(`Forget every decision about ${s.name}? Its tools go back to the consent policy.`)) consent(s.id, { decision: "reset" }).then(() => loadServers(true));
      } }, "Reset")),
    el("div", { className: "tools" }, "Loading tools…"));
  details.dataset.serverId = s.id;
  const load = () => api(`/servers/${encodeURIComponent(s.id)}/tools`).then((t) => renderTools(details, t)).catch(() => {});
  details.addEventListener("toggle", () => {
    if (details.open) { openServers.add(s.id); load(); } else { openServers.delete(s.id); }
  });
  return details;
}

// ------------------------------------------------------------------------ remote sign-in (OAuth) and shadowed definitions

/**
 * @typedef {object} SignInError
 * @property {string} code stable: sign_in_refused, sign_in_state_mismatch, sign_in_timeout, sign_in_failed, cancelled
 * @property {string} message for people
 */
/**
 * @typedef {object} SignInAttempt
 * @property {string} serverId
 * @property {"pending" | "succeeded" | "not-needed" | "failed" | "cancelled"} state
 * @property {string} [authorizationUrl] while pending: the authorization server's page
 * @property {string} startedAt
 * @property {string} [finishedAt]
 * @property {SignInError} [error]
 */
/**
 * @typedef {object} ServerSignIn what `mmcp auth status` shows (never a token)
 * @property {boolean} signedIn
 * @property {string} label
 * @property {string} [authorizationServer]
 * @property {string} [obtainedAt]
 * @property {string} [expiresAt]
 * @property {string[]} scopes
 * @property {boolean} canRefresh
 * @property {SignInAttempt} [attempt] the sign-in started from this page, if any
 */
/**
 * @typedef {object} Provenance
 * @property {string} kind
 * @property {string} label
 * @property {string} location
 * @property {string} [key]
 */
/**
 * @typedef {object} ServerRow one server of GET /servers (ServerView)
 * @property {string} id
 * @property {string} name
 * @property {string} description
 * @property {string} version
 * @property {{ type: string, summary: string }} transport
 * @property {Provenance} provenance
 * @property {string} state "connected", "failed", "idle", "sign-in-required", ...
 * @property {number} consecutiveFailures
 * @property {FailureView} [lastError]
 * @property {string} [retryAt]
 * @property {string} [consent] "allow" or "deny" when the whole server was decided
 * @property {number} toolCount
 * @property {ConsentCounts} tools
 * @property {string} [listSource]
 * @property {FailureView} [listError]
 * @property {Provenance[]} shadowed definitions this one hides
 * @property {string} [shadowedBy] the id that won the plain name this definition wanted
 * @property {string[]} [aliases] other ids that reach this server
 * @property {ServerSignIn} [signIn] only for remote servers that sign in with OAuth
 */

/** @type {Map<string, string>} the last attempt outcome announced per server ("state startedAt") */
const announcedSignIns = new Map();

/**
 * Starts (or rejoins) the sign-in and opens the authorization page in a new tab. The tab is opened during the click
 * (popup blockers allow that), cut off from this page (no opener), then sent to the URL the desktop returns.
 * @param {ServerRow} s
 * @returns {Promise<void>}
 */
async function signIn(s) {
  const tab = window.open("about:blank", "_blank");
  if (tab) tab.opener = null;
  try {
    /** @type {SignInAttempt} */
    const attempt = await api(`/servers/${encodeURIComponent(s.id)}/sign-in`, "POST");
    if (attempt.authorizationUrl) {
      if (tab) tab.location.href = attempt.authorizationUrl;
      else window.open(attempt.authorizationUrl, "_blank", "noopener");
    } else tab?.close();
  } catch {
    tab?.close();
  }
  await loadServers(true).catch(() => {});
}

/**
 * @param {ServerRow} s
 * @param {"sign-in/cancel" | "sign-out"} action
 * @returns {Promise<void>}
 */
function signInAction(s, action) {
  if (action === "sign-out" && !confirm(`Sign out of ${s.name}? The grant is revoked and its tools stop working until you sign in again.`)) return Promise.resolve();
  return api(`/servers/${encodeURIComponent(s.id)}/${action}`, "POST").then(() => loadServers(true), () => {});
}

/**
 * The sign-in block of a remote server: who and what was granted, Sign in / Sign out, a pending sign-in (open its
 * page again, cancel) and how the last one ended; outcomes are also spoken once.
 * @param {ServerRow} s
 * @returns {HTMLElement}
 */
function renderSignIn(s) {
  const info = /** @type {ServerSignIn} */ (s.signIn);
  const attempt = info.attempt;
  const pending = attempt?.state === "pending";
  const facts = info.signedIn
    ? `Signed in${info.authorizationServer ? ` at ${info.authorizationServer}` : ""}${info.label === "signed in" ? "" : ` (${info.label})`}, ${when(info.obtainedAt)}`
      + `${info.expiresAt ? `, access expires ${when(info.expiresAt)}` : ""}; scopes: ${info.scopes.join(" ") || "none"}.`
    : "Not signed in: this server needs you to sign in before its tools can be used.";
  /** @type {(string | HTMLElement)[]} */
  const outcome = [];
  if (pending) {
    outcome.push(el("p", { className: "note" }, "Waiting for you to finish signing in on the page that opened. ",
      attempt.authorizationUrl ? el("a", { href: attempt.authorizationUrl, target: "_blank", rel: "noopener noreferrer" }, "Open the sign-in page again") : ""));
  } else if (attempt?.state === "succeeded") {
    outcome.push(el("p", { className: "ok" }, `Signed in to ${s.name} ${when(attempt.finishedAt)}.`));
  } else if (attempt?.error && !info.signedIn) {
    outcome.push(el("p", { className: "error" }, `Sign-in ${attempt.state === "cancelled" ? "cancelled" : "failed"} (${attempt.error.code}): ${attempt.error.message}`));
  }
  if (attempt && !pending) {
    const key = `${attempt.state} ${attempt.startedAt}`;
    if (announcedSignIns.has(s.id) && announcedSignIns.get(s.id) !== key) {
      $("announce").textContent = attempt.state === "succeeded" ? `Signed in to ${s.name}.` : `Sign-in to ${s.name}: ${attempt.error?.message ?? attempt.state}`;
    }
    announcedSignIns.set(s.id, key);
  } else if (attempt) announcedSignIns.set(s.id, "pending");
  const box = el("div", { className: "sign-in" },
    el("p", {}, facts),
    ...outcome,
    el("p", { className: "tool-actions" },
      pending ? el("button", { className: "secondary", onclick: () => signInAction(s, "sign-in/cancel") }, "Cancel sign-in")
        : !info.signedIn || s.state === "sign-in-required" ? el("button", { onclick: () => signIn(s) }, "Sign in") : "",
      info.signedIn ? el("button", { className: "danger", onclick: () => signInAction(s, "sign-out") }, "Sign out") : ""));
  for (const button of box.querySelectorAll("button")) button.setAttribute("aria-label", `${button.textContent} (${s.name})`);
  return box;
}

/**
 * Where the other definitions of this server went (as `mmcp servers --all` says): the ones it shadows, the id that
 * took its plain name, and the other ids that reach it.
 * @param {ServerRow} s
 * @returns {HTMLElement | string}
 */
function renderShadowing(s) {
  /** @type {(string | HTMLElement)[]} */
  const lines = [];
  if (s.shadowedBy) lines.push(`Shadowed by ${s.shadowedBy} (the name '${s.shadowedBy}' is taken); reach this one as `, el("span", { className: "mono" }, s.id), ".");
  if (s.aliases?.length) lines.push(lines.length ? el("br") : "", "Also reachable as ", ...s.aliases.flatMap((a, i) => [i ? ", " : "", el("span", { className: "mono" }, a)]), ".");
  for (const p of s.shadowed) lines.push(lines.length ? el("br") : "", `Shadows ${p.label}.`);
  return lines.length ? el("p", { className: "shadowing" }, ...lines) : "";
}

/**
 * @param {HTMLElement} details
 * @param {ServerToolsView} view
 */
function renderTools(details, view) {
  /**
   * @param {ToolView} tool
   * @param {string} decision
   */
  const decide = (tool, decision) => consent(view.serverId, { tool: tool.name, decision }).then(() => loadServers(true));
  const rows = view.tools.map((t) => {
    const hints = t.annotations ? Object.entries({ "read-only": t.annotations.readOnly, destructive: t.annotations.destructive,
      idempotent: t.annotations.idempotent, "open world": t.annotations.openWorld }).filter(([, v]) => v).map(([k]) => k) : [];
    const row = el("tr", {},
      el("td", {}, el("span", { className: "mono" }, t.name), t.title ? el("br") : "", t.title ?? ""),
      el("td", {}, t.description ?? "", hints.length ? el("br") : "", ...hints.map((h) => badge(h, h === "destructive" ? "denied" : ""))),
      el("td", {}, badge(STATE_LABEL[t.consent.status], t.consent.status), t.consent.decidedBy ? el("br") : "",
        t.consent.decidedBy ? `${t.consent.decidedBy}, ${when(t.consent.decidedAt)}` : ""),
      el("td", { className: "tool-actions" },
        t.consent.status === "allowed" ? "" : el("button", { onclick: () => decide(t, "allow") }, t.consent.status === "changed" ? "Re-approve" : "Allow"),
        t.consent.status === "denied" && t.consent.decision === "deny" ? "" : el("button", { className: "danger", onclick: () => decide(t, "deny") }, "Deny"),
        t.consent.decision ? el("button", { className: "secondary", onclick: () => decide(t, "reset") }, "Reset") : ""));
    row.dataset.tool = t.name;
    row.title = t.consent.message ?? `Pinned definition ${t.consent.pinnedHash ?? t.hash}`;
    return row;
  });
  const box = details.querySelector(".tools");
  if (!box) throw new Error(`The server block of ${view.serverId} has no .tools element.`);
  box.replaceChildren(
    view.failure ? el("p", { className: "error" }, `Live listing failed (${view.failure.message}); ${view.source === "none" ? "no earlier list to show" : `showing the ${view.source} list`}.`) : "",
    el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Tool"), el("th", {}, "Description"), el("th", {}, "Consent"), el("th", {}))),
      el("tbody", {}, ...rows)));
}

// Media jobs: running, queued and recent, with cancel; fetched on "media" events, and every 2 s while one runs.
/** @param {number | null | undefined} s */
function seconds(s) { return s == null ? "" : s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(1)} s`; }

/** @param {MediaJobsView} view */
function renderJobs(view) {
  const c = view.cache;
  $("media-cache").textContent = `Result cache: ${(c.bytes / 1048576).toFixed(1)} MiB in ${c.files} file(s) at ${c.directory}.`;
  /**
   * @param {MediaJobView} j
   * @param {boolean} live
   */
  const row = (j, live) => {
    const tr = el("tr", {},
      el("td", {}, j.task, el("br"), el("span", { className: "mono" }, j.id)),
      el("td", {}, j.deviceName ?? j.deviceId),
      el("td", { className: "mono" }, j.file),
      el("td", {}, badge(j.status, j.status === "succeeded" ? "allowed" : j.status === "running" ? "" : "denied"),
        live && j.fraction != null ? ` ${Math.round(j.fraction * 100)}%` : "", ` ${j.stage}`, j.fromCache ? " (from cache)" : "",
        j.error ? el("br") : "", j.error ? el("span", { className: "error" }, j.error) : ""),
      el("td", {}, live ? `since ${new Date(j.startedAt).toLocaleTimeString()}` : seconds(j.durationSeconds)),
      el("td", {}, live ? el("button", { className: "danger", onclick: () => api(`/media/jobs/${encodeURIComponent(j.id)}/cancel`, "POST").then(refreshJobs) }, "Cancel") : ""));
    tr.dataset.job = j.id;
    return tr;
  };
  const rows = [...view.running.map((j) => row(j, true)), ...view.queued.map((j) => row(j, true)), ...view.recent.slice(0, 20).map((j) => row(j, false))];
  $("jobs").replaceChildren(rows.length ? table(["Job", "Device", "File", "State", "Time", ""], rows)
    : empty("No media jobs yet. They show here while a phone's OCR, analysis, frames or transcription runs, and after."));
  // Progress is not an event: follow it every two seconds while something runs.
  clearTimeout(jobsTimer);
  if (view.running.length || view.queued.length) jobsTimer = setTimeout(refreshJobs, 2000);
}

let jobsTimer = 0;

/** @param {number | null | undefined} s */
function latency(s) { return s == null ? "–" : seconds(s); }

/** @param {LiveMetricsView} m */
function renderActivity(m) {
  const spend = m.spendToday > 0 ? `$${m.spendToday.toFixed(4)}` : "$0";
  $("activity-summary").textContent = `${m.devicesConnected} device connection${m.devicesConnected === 1 ? "" : "s"} · `
    + `${m.tokensToday} tokens and ${spend} spent today · media queue: ${m.mediaQueued} waiting, ${m.mediaFinished} finished`;
  $("activity-servers").replaceChildren(m.servers.length === 0 ? empty("No tool calls yet.") : table(
    ["Server", "Calls", "Errors", "Latency p50", "Latency p95"],
    m.servers.map((s) => el("tr", {}, el("td", { className: "mono" }, s.server), el("td", {}, String(s.calls)),
      el("td", { className: s.errors > 0 ? "error" : "" }, String(s.errors)), el("td", {}, latency(s.p50)), el("td", {}, latency(s.p95))))));
  $("activity-models").replaceChildren(m.models.length === 0 ? empty("No answers yet today.") : table(
    ["Model", "Answers", "Input tokens", "Output tokens", "Spend"],
    m.models.map((x) => el("tr", {}, el("td", { className: "mono" }, x.model), el("td", {}, String(x.answers)),
      el("td", {}, String(x.inputTokens)), el("td", {}, String(x.outputTokens)), el("td", {}, `$${x.spend.toFixed(4)}`)))));
}

async function refreshActivity() {
  try { renderActivity(await api("/metrics")); } catch { /* shown already */ }
}

async function refreshJobs() {
  try { renderJobs(await api("/media/jobs")); } catch { /* shown already */ }
}

async function refreshLlm() {
  try { renderLlm(await api("/llm")); } catch { /* shown already */ }
}

async function refresh() {
  try {
    render(await api("/state"));
    $("main").classList.remove("hidden"); $("signin").classList.add("hidden");
  } catch { /* shown already */ }
}

// Live updates: the stream names what changed; EventSource reconnects by itself (a "ready" follows every reconnect,
// and everything is fetched again then). A signed-out page learns it from the next fetch.
function follow() {
  /**
   * @param {boolean} on
   * @param {string} text
   */
  const live = (on, text) => { $("live-dot").className = `dot ${on ? "on" : "off"}`; $("live-state").textContent = text; };
  const source = new EventSource("/admin/api/events");
  source.onmessage = (e) => {
    const topics = new Set(JSON.parse(e.data));
    if (topics.has("ready")) {
      live(true, "Live");
      refresh(); refreshJobs(); refreshLlm();
      return;
    }
    if (topics.has("devices") || topics.has("pairing")) { refresh(); refreshLlm(); }
    if (topics.has("media")) refreshJobs();
    if (topics.has("servers")) loadServers().catch(() => {});
  };
  source.onerror = () => {
    live(false, "Reconnecting…");
    if (source.readyState === EventSource.CLOSED) api("/state").then(() => setTimeout(follow, 2000)).catch(() => live(false, "Signed out"));
  };
}

byId("new-ticket", HTMLButtonElement).addEventListener("click", () => api("/pair", "POST").then(refresh));
byId("reload-servers", HTMLButtonElement).addEventListener("click", () => loadServers(true).catch(() => {}));

(async () => {
  if (code) {
    const response = await fetch("/admin/login", { method: "POST", headers: { "Content-Type": "application/json", "X-Atlas-Admin": "1" }, body: JSON.stringify({ code }) });
    if (!response.ok) { signedOut(); return; }
  }
  await refresh();
  refreshJobs(); refreshLlm(); refreshActivity();
  loadServers().catch(() => {});
  follow();
  // The live numbers are measurements, not events: every five seconds while the page is visible.
  setInterval(() => { if (document.visibilityState === "visible" && !$("main").classList.contains("hidden")) refreshActivity(); }, 5000);
  // The QR code's countdown; and, now and then, what events do not cover (last seen, server states, spend).
  setInterval(renderPairing, 1000);
  setInterval(() => { if (document.visibilityState === "visible") { refresh(); refreshLlm(); loadServers().catch(() => {}); } }, 30000);
})();

// ------------------------------------------------------------------------------------------------ phone trust (issue 10)

/** Quick mode (self-signed) or trusted mode (this desktop as a name-constrained CA that phones install). */
/** @param {TlsView} view */
function renderTrust(view) {
  const trusted = view.mode === "local-ca";
  $("trust-mode").textContent = trusted
    ? "Trusted mode: phones that install this desktop's certificate authority trust it; the web app installs and opens offline."
    : view.mode === "self-signed"
      ? "Quick mode: a self-signed certificate that phones' browsers accept on first use. The web app needs the desktop to start."
      : "A certificate from Atlas:Certificate:Path.";
  $("trust-detail").textContent = trusted
    ? `${view.authoritySubject}; permits only ${[...view.permittedNames ?? [], ...view.permittedAddresses ?? []].join(", ")}. `
      + `Serving certificate renewed automatically (valid until ${when(view.certificateNotAfter)}).`
    : "";
  $("trust-on").classList.toggle("hidden", view.mode !== "self-signed");
  $("trust-rotate").classList.toggle("hidden", !trusted);
  $("trust-off").classList.toggle("hidden", !trusted);
}

/**
 * @param {string} path
 * @param {{ mode: string } | undefined} body
 * @param {string} question
 */
async function changeTrust(path, body, question) {
  if (!confirm(question)) return;
  /** @type {TlsView} */
  const view = await api(path, "POST", body);
  renderTrust(view);
  alert(`Done. ${view.revokedDevices} device(s) were revoked and must pair again with a new QR code.`);
  await api("/pair", "POST");
  await refresh();
}

const loadTrust = () => api("/tls").then(renderTrust).catch(() => {});
byId("trust-on", HTMLButtonElement).addEventListener("click", () => changeTrust("/tls", { mode: "local-ca" },
  "Turn on trusted mode? Every paired device is revoked and must pair again (and install the certificate authority).").catch(() => {}));
byId("trust-rotate", HTMLButtonElement).addEventListener("click", () => changeTrust("/tls/rotate", undefined,
  "Replace the certificate authority? The old one is deleted; every device is revoked and must install the new one and pair again.").catch(() => {}));
byId("trust-off", HTMLButtonElement).addEventListener("click", () => changeTrust("/tls", { mode: "self-signed" },
  "Turn trusted mode off? The certificate authority is deleted; every device is revoked and must pair again.").catch(() => {}));
setInterval(() => { if (!$("main").classList.contains("hidden")) loadTrust(); }, 2000);
new MutationObserver(() => { if (!$("main").classList.contains("hidden")) loadTrust(); }).observe($("main"), { attributes: true, attributeFilter: ["class"] });
