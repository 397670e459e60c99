// The VM console: noVNC (static/vendor/novnc-*) over the site's websocket proxy (hosts/console.py).
// Asks the status URL first (is the VM on, has it VNC?) so that noVNC never connects to nothing,
// and again when the connection ends, to say why (e.g. the VM stopped).
const root = document.getElementById("console");
const statusEl = document.getElementById("console-status");
const screen = document.getElementById("console-screen");
const reconnect = document.getElementById("console-reconnect");
const viewOnly = root.dataset.viewOnly === "1";
const KEY = { ctrl: 0xffe3, alt: 0xffe9, del: 0xffff, f1: 0xffbe };
let RFB = null;
let rfb = null;

function setStatus(state, text) {
  statusEl.dataset.state = state;
  statusEl.textContent = text;
  document.querySelectorAll("#console-cad, #console-caf1").forEach((b) => { b.disabled = state !== "connected"; });
  reconnect.hidden = state !== "closed";
}

async function status() {
  const r = await fetch(root.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!r.ok) return { ok: false, error: `status: HTTP ${r.status}` };
  return r.json();
}

function chord(keys) {
  if (!rfb) return;
  keys.forEach(([sym, code]) => rfb.sendKey(sym, code, true));
  [...keys].reverse().forEach(([sym, code]) => rfb.sendKey(sym, code, false));
  rfb.focus();
}

async function open() {
  setStatus("connecting", "connecting…");
  const s = await status();
  if (!s.ok) { setStatus("closed", `no console: ${s.error}`); return; }
  if (!RFB) RFB = (await import(root.dataset.rfbUrl)).default;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  screen.textContent = "";
  rfb = new RFB(screen, `${scheme}://${location.host}${root.dataset.wsPath}`, { shared: true });
  rfb.viewOnly = viewOnly;
  rfb.scaleViewport = false;
  rfb.resizeSession = false;
  rfb.addEventListener("connect", () => {
    root.dataset.connects = String(Number(root.dataset.connects || 0) + 1);
    setStatus("connected", viewOnly ? "connected (view only)" : "connected");
  });
  rfb.addEventListener("desktopname", (e) => { root.dataset.desktop = e.detail.name; });
  rfb.addEventListener("disconnect", async () => {
    rfb = null;
    const after = await status().catch(() => ({ ok: false, error: "the site did not answer" }));
    setStatus("closed", after.ok ? "disconnected" : `closed: ${after.error}`);
  });
}

document.getElementById("console-cad")?.addEventListener("click", () => chord([[KEY.ctrl, "ControlLeft"], [KEY.alt, "AltLeft"], [KEY.del, "Delete"]]));
document.getElementById("console-caf1")?.addEventListener("click", () => chord([[KEY.ctrl, "ControlLeft"], [KEY.alt, "AltLeft"], [KEY.f1, "F1"]]));
reconnect.addEventListener("click", () => { open(); });
window.addEventListener("pagehide", () => { if (rfb) rfb.disconnect(); });
open().catch((err) => setStatus("closed", `no console: ${err}`));
