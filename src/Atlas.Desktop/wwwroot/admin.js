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

async function refresh() {
  try { render(await api("/state")); $("main").classList.remove("hidden"); $("signin").classList.add("hidden"); } catch { /* shown already */ }
}

$("new-ticket").addEventListener("click", () => api("/pair", "POST").then(refresh));

(async () => {
  if (code) {
    const response = await fetch("/admin/login", { method: "POST", headers: { "Content-Type": "application/json", "X-Atlas-Admin": "1" }, body: JSON.stringify({ code }) });
    if (!response.ok) { signedOut(); return; }
  }
  await refresh();
  setInterval(refresh, 2000);
})();
