// @ts-check
// The pairing page: reads the ticket from the URL fragment (never sent to any server), removes it from the address
// bar, redeems it with POST /auth and waits for the desktop user's approval, showing the check code.
// It imports nothing (the page loads this one file), so its element lookup is its own.

/**
 * The element with this id, of the expected type; the page's markup lacking it is a bug, so this throws saying which.
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
const fields = new URLSearchParams(location.hash.slice(1));
history.replaceState(null, "", location.pathname);

const b64url = /^[A-Za-z0-9_-]{43}$/;
const ticket = fields.get("t") ?? "";
const pin = fields.get("fp") ?? "";
const expires = Number(fields.get("exp") ?? "0");
const name = (fields.get("n") ?? "Atlas").slice(0, 64);

/**
 * @param {string} id
 * @param {string} [text]
 */
function show(id, text) { const el = $(id); if (text !== undefined) el.textContent = text; el.classList.remove("hidden"); }
/** @param {string} id */
function hide(id) { $(id).classList.add("hidden"); }

/** @param {string} p the certificate pin (base64url SHA-256) */
function fingerprint(p) {
  const bin = atob(p.replace(/-/g, "+").replace(/_/g, "/") + "=");
  const hex = [...bin].slice(0, 16).map((c) => c.charCodeAt(0).toString(16).padStart(2, "0").toUpperCase()).join("");
  return /** @type {RegExpMatchArray} */ (hex.match(/.{4}/g)).join("-");
}

function randomNonce() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** @param {string} nonce */
async function localCheckCode(nonce) {
  if (!crypto.subtle) return null;
  const data = new TextEncoder().encode(`atlas-check-v1\n${pin}\n${ticket}\n${nonce}`);
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  const value = ((h[0] << 24) >>> 0) + (h[1] << 16) + (h[2] << 8) + h[3];
  return String(value % 1000000).padStart(6, "0");
}

/**
 * @param {Record<string, unknown>} body
 * @returns {Promise<{ status: number, json: any }>}
 */
async function post(body) {
  const response = await fetch("/auth", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const json = await response.json().catch(() => ({}));
  return { status: response.status, json };
}

/** @param {any} json */
function fail(json) { hide("pending"); show("error", json?.error?.message ?? "Pairing failed."); }

/** Trusted mode: a secure context alone proves nothing (a certificate clicked through still gives one), but browsers
 * register a service worker only from an origin whose certificate they trust, so that is the probe. */
async function probeTrust() {
  const status = $("trust-status");
  let trusted = false;
  if (window.isSecureContext && "serviceWorker" in navigator) {
    try {
      await navigator.serviceWorker.register("/sw.js");
      trusted = true;
    } catch {
      trusted = false;
    }
  }
  status.dataset.trusted = String(trusted);
  status.className = trusted ? "ok" : "note";
  status.textContent = trusted
    ? "This phone trusts the desktop: the app can be installed and opens without a network."
    : "This phone does not trust the desktop yet. Install its certificate with the steps below, then tap Check again.";
}

async function showTrust() {
  const json = await fetch("/pair/certificate").then((r) => r.json()).catch(() => null);
  if (json?.mode !== "local-ca") return json;
  $("ca-sha256").textContent = json.sha256;
  $("certificate-where").textContent = "The desktop's certificate authority: your phone's certificate settings show it once installed.";
  show("trust");
  $("trust-check").addEventListener("click", probeTrust);
  await probeTrust();
  return json;
}

const certificate = showTrust();
$("desktop").textContent = name;
if (fields.get("v") !== "1" || !b64url.test(ticket) || !b64url.test(pin) || !(expires > 0)) {
  show("invalid", "This pairing link is incomplete or from a newer version. Scan the QR code on the desktop again.");
} else if (expires * 1000 < Date.now()) {
  show("invalid", "This pairing link has expired. Show a new QR code on the desktop ('atlas pair').");
} else {
  $("fingerprint").textContent = fingerprint(pin);
  certificate.then((json) => { $("certificate-sha256").textContent = json?.sha256 ?? "unavailable"; });
  $("expires").textContent = new Date(expires * 1000).toLocaleTimeString();
  byId("name", HTMLInputElement).value = /Android/i.test(navigator.userAgent) ? "Android phone" : /iPhone|iPad/i.test(navigator.userAgent) ? "iPhone" : "Browser";
  show("form");
  $("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    byId("pair", HTMLButtonElement).disabled = true;
    const nonce = randomNonce();
    const { status, json } = await post({ grantType: "pairing_ticket", ticket, deviceName: byId("name", HTMLInputElement).value.trim(), platform: "web", clientNonce: nonce });
    hide("form");
    if (status !== 200 && status !== 202) { fail(json); return; }
    localStorage.setItem("atlas.device", JSON.stringify({ deviceId: json.deviceId, deviceCredential: json.deviceCredential, fingerprint: json.fingerprint, desktopName: json.desktopName }));
    show("pending");
    $("check").textContent = json.checkCode;
    const expected = await localCheckCode(nonce);
    if (expected !== null && expected !== json.checkCode) {
      show("local-check", "Warning: the check code computed on this device differs. Deny this request on the desktop.");
      $("local-check").classList.add("error");
      return;
    }
    let answer = { status, json };
    while (answer.status !== 200 || answer.json.sessionToken === undefined) {
      if (answer.status !== 200 && answer.status !== 202 && answer.json?.error?.code !== "pairing_pending") { fail(answer.json); return; }
      answer = await post({ grantType: "device_credential", deviceCredential: json.deviceCredential, waitSeconds: 25 });
    }
    hide("pending");
    show("done");
    $("device").textContent = json.deviceId;
  });
}
