// The admin UI: redeems the one-time code from the fragment for an HttpOnly cookie, then polls the state.
const $ = (id) => document.getElementById(id);
const PERMISSIONS = ["chat", "files.read", "files.write", "media.process", "tools"];
const code = new URLSearchParams(location.hash.slice(1)).get("code");
history.replaceState(null, "", location.pathname);

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

async function api(path, method = "GET", body) {
  const init = { method, headers: { "X-Atlas-Admin": "1" } };
  if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const response = await fetch("/admin/api" + path, init);
  if (response.status === 401) { signedOut(); throw new Error("signed out"); }
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

function when(t) { return t ? new Date(t).toLocaleString() : "never"; }

function render(state) {
  $("name").textContent = state.name;
  $("fingerprint").textContent = state.displayFingerprint;
  $("urls").textContent = state.urls.join("  ");
  $("live").textContent = `${state.connections} live connection(s)`;
  const p = state.pairing;
  $("pairing-state").textContent = p.closed
    ? `Pairing is CLOSED after ${p.recentFailures} failed attempts. Make a new QR code to reopen it.`
    : p.url ? `QR code valid until ${new Date(p.expiresAt).toLocaleTimeString()} (single use). ${p.recentFailures} recent failed attempts. Approval: ${p.approval}.`
    : `No open QR code. ${p.recentFailures} recent failed attempts.`;
  $("pairing-state").className = p.closed || p.recentFailures > 0 ? "error" : "";
  $("pair-url").textContent = p.url ?? "";
  const qr = $("qr");
  if (p.url && qr.dataset.url !== p.url) { qr.src = "/admin/api/qr.svg?" + Date.now(); qr.dataset.url = p.url; }
  qr.classList.toggle("hidden", !p.url);

  const pending = $("pending");
  pending.replaceChildren(...state.devices.filter((d) => d.status === "pending").map((d) => el("tr", {},
    el("td", {}, `${d.name} (${d.platform})`),
    el("td", { className: "code" }, d.checkCode ?? ""),
    el("td", { className: "mono" }, d.lastAddress ?? ""),
    el("td", {},
      el("button", { onclick: () => api(`/devices/${d.id}/approve`, "POST").then(refresh) }, "Approve"), " ",
      el("button", { className: "secondary", onclick: () => api(`/devices/${d.id}/deny`, "POST").then(refresh) }, "Deny")))));

  const devices = $("devices");
  devices.replaceChildren(...state.devices.filter((d) => d.status === "active").map((d) => el("tr", {},
    el("td", {}, `${d.name} (${d.platform})`, el("br"), el("span", { className: "mono" }, d.id)),
    el("td", {}, ...PERMISSIONS.map((perm) => el("label", {},
      el("input", { type: "checkbox", checked: d.permissions.includes(perm), onchange: (e) => {
        const next = e.target.checked ? [...d.permissions, perm] : d.permissions.filter((x) => x !== perm);
        api(`/devices/${d.id}/permissions`, "POST", { permissions: next }).then(refresh);
      } }), ` ${perm} `))),
    el("td", {}, when(d.lastSeenAt), el("br"), d.lastAddress ?? ""),
    el("td", {}, String(d.connections)),
    el("td", {}, el("button", { className: "danger", onclick: () => {
      if (confirm(`Revoke ${d.name}? Its connections close now and it must pair again.`)) api(`/devices/${d.id}/revoke`, "POST").then(refresh);
    } }, "Revoke")))));

  $("events").replaceChildren(...state.events.slice(0, 20).map((e) => el("tr", {},
    el("td", {}, when(e.at)), el("td", {}, e.event), el("td", { className: "mono" }, e.deviceId ?? ""), el("td", {}, e.address ?? ""),
    el("td", {}, e.detail ?? ""))));
}

// MCP servers and consent. Listing asks every server for its tools, so it loads on demand (page load, Reload, after a
// decision), not on every status poll.
const STATE_LABEL = { allowed: "allowed", denied: "denied", changed: "changed — needs re-approval", pending: "not approved yet" };
const STATE_CLASS = { allowed: "ok", denied: "error", changed: "note", pending: "note", connected: "ok", failed: "error" };
const openServers = new Set();

function badge(text, kind) { return el("span", { className: `badge ${STATE_CLASS[kind] ?? ""}` }, text); }

function consent(id, body) { return api(`/servers/${encodeURIComponent(id)}/consent`, "POST", body); }

async function loadServers() {
  const view = await api("/servers");
  $("consent-file").textContent = `Consent file: ${view.consentFile} (policy: ${view.policy})`;
  $("servers").replaceChildren(...(view.servers.length ? view.servers.map(renderServer) : [el("p", {}, "No MCP servers discovered.")]));
  $("diagnostics").replaceChildren(...view.diagnostics.map((d) => el("p", {}, `${d.file}: ${d.field}: ${d.message}`)));
}

function renderServer(s) {
  const counts = s.tools;
  const held = [counts.changed && `${counts.changed} changed — needs re-approval`, counts.denied && `${counts.denied} denied`,
    counts.pending && `${counts.pending} not approved yet`].filter(Boolean).join(", ");
  const details = el("details", { className: "server", open: openServers.has(s.id) },
    el("summary", {}, el("strong", {}, s.name), " ", el("span", { className: "mono" }, s.id), " ", badge(s.state, s.state), " ",
      `${s.toolCount} tool(s)`, held ? " · " : "", held ? el("span", { className: "note" }, held) : "",
      s.consent === "deny" ? " · " : "", s.consent === "deny" ? badge("server denied", "denied") : ""),
    el("p", {}, `From ${s.provenance.label}`, el("br"), `${s.transport.type}: `, el("span", { className: "mono" }, s.transport.summary)),
    s.lastError ? el("p", { className: "error" }, `Last error (${s.lastError.code}, ${when(s.lastError.at)}): ${s.lastError.message}`) : "",
    s.listError && !s.lastError ? el("p", { className: "error" }, `Listing failed: ${s.listError.message}`) : "",
    el("p", { className: "tool-actions" },
      el("button", { onclick: () => consent(s.id, { decision: "allow" }).then(loadServers) }, "Allow server"),
      el("button", { className: "danger", onclick: () => consent(s.id, { decision: "deny" }).then(loadServers) }, "Deny server"),
      el("button", { className: "secondary", onclick: () => {
        if (confirm(`Forget every decision about ${s.name}? Its tools go back to the consent policy.`)) consent(s.id, { decision: "reset" }).then(loadServers);
      } }, "Reset")),
    el("div", { className: "tools" }, "Loading tools…"));
  details.dataset.serverId = s.id;
  const load = () => api(`/servers/${encodeURIComponent(s.id)}/tools`).then((t) => renderTools(details, t)).catch(() => {});
  details.addEventListener("toggle", () => {
    if (details.open) { openServers.add(s.id); load(); } else { openServers.delete(s.id); }
  });
  return details;
}

function renderTools(details, view) {
  const decide = (tool, decision) => consent(view.serverId, { tool: tool.name, decision }).then(loadServers);
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
  box.replaceChildren(
    view.failure ? el("p", { className: "error" }, `Live listing failed (${view.failure.message}); showing the ${view.source} list.`) : "",
    el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Tool"), el("th", {}, "Description"), el("th", {}, "Consent"), el("th", {}))),
      el("tbody", {}, ...rows)));
}

// Media jobs: running, queued and recent, with cancel; polled with the state.
function seconds(s) { return s == null ? "" : s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(1)} s`; }

function renderJobs(view) {
  const c = view.cache;
  $("media-cache").textContent = `Result cache: ${(c.bytes / 1048576).toFixed(1)} MiB in ${c.files} file(s) at ${c.directory}.`;
  const row = (j, live) => {
    const tr = el("tr", {},
      el("td", {}, j.task, el("br"), el("span", { className: "mono" }, j.id)),
      el("td", {}, j.deviceName ?? j.deviceId),
      el("td", { className: "mono" }, j.file),
      el("td", {}, badge(j.status, j.status === "succeeded" ? "allowed" : j.status === "running" ? "" : "denied"),
        live && j.fraction != null ? ` ${Math.round(j.fraction * 100)}%` : "", ` ${j.stage}`, j.fromCache ? " (from cache)" : "",
        j.error ? el("br") : "", j.error ? el("span", { className: "error" }, j.error) : ""),
      el("td", {}, live ? `since ${new Date(j.startedAt).toLocaleTimeString()}` : seconds(j.durationSeconds)),
      el("td", {}, live ? el("button", { className: "danger", onclick: () => api(`/media/jobs/${encodeURIComponent(j.id)}/cancel`, "POST").then(refresh) }, "Cancel") : ""));
    tr.dataset.job = j.id;
    return tr;
  };
  const rows = [...view.running.map((j) => row(j, true)), ...view.queued.map((j) => row(j, true)), ...view.recent.slice(0, 20).map((j) => row(j, false))];
  $("jobs").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colSpan: 6 }, "No media jobs yet."))]));
}

async function refresh() {
  try {
    render(await api("/state"));
    renderJobs(await api("/media/jobs"));
    $("main").classList.remove("hidden"); $("signin").classList.add("hidden");
  } catch { /* shown already */ }
}

$("new-ticket").addEventListener("click", () => api("/pair", "POST").then(refresh));
$("reload-servers").addEventListener("click", () => loadServers().catch(() => {}));

(async () => {
  if (code) {
    const response = await fetch("/admin/login", { method: "POST", headers: { "Content-Type": "application/json", "X-Atlas-Admin": "1" }, body: JSON.stringify({ code }) });
    if (!response.ok) { signedOut(); return; }
  }
  await refresh();
  loadServers().catch(() => {});
  setInterval(refresh, 2000);
})();

// ------------------------------------------------------------------------------------------------ phone trust (issue 10)

/** Quick mode (self-signed) or trusted mode (this desktop as a name-constrained CA that phones install). */
function renderTrust(view) {
  const trusted = view.mode === "local-ca";
  $("trust-mode").textContent = trusted
    ? "Trusted mode: phones that install this desktop's certificate authority trust it; the web app installs and opens offline."
    : view.mode === "self-signed"
      ? "Quick mode: a self-signed certificate that phones' browsers accept on first use. The web app needs the desktop to start."
      : "A certificate from Atlas:Certificate:Path.";
  $("trust-detail").textContent = trusted
    ? `${view.authoritySubject}; permits only ${[...view.permittedNames, ...view.permittedAddresses].join(", ")}. `
      + `Serving certificate renewed automatically (valid until ${when(view.certificateNotAfter)}).`
    : "";
  $("trust-on").classList.toggle("hidden", view.mode !== "self-signed");
  $("trust-rotate").classList.toggle("hidden", !trusted);
  $("trust-off").classList.toggle("hidden", !trusted);
}

async function changeTrust(path, body, question) {
  if (!confirm(question)) return;
  const view = await api(path, "POST", body);
  renderTrust(view);
  alert(`Done. ${view.revokedDevices} device(s) were revoked and must pair again with a new QR code.`);
  await api("/pair", "POST");
  await refresh();
}

const loadTrust = () => api("/tls").then(renderTrust).catch(() => {});
$("trust-on").addEventListener("click", () => changeTrust("/tls", { mode: "local-ca" },
  "Turn on trusted mode? Every paired device is revoked and must pair again (and install the certificate authority).").catch(() => {}));
$("trust-rotate").addEventListener("click", () => changeTrust("/tls/rotate", undefined,
  "Replace the certificate authority? The old one is deleted; every device is revoked and must install the new one and pair again.").catch(() => {}));
$("trust-off").addEventListener("click", () => changeTrust("/tls", { mode: "self-signed" },
  "Turn trusted mode off? The certificate authority is deleted; every device is revoked and must pair again.").catch(() => {}));
setInterval(() => { if (!$("main").classList.contains("hidden")) loadTrust(); }, 2000);
new MutationObserver(() => { if (!$("main").classList.contains("hidden")) loadTrust(); }).observe($("main"), { attributes: true, attributeFilter: ["class"] });
