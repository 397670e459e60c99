// Inventory page: ping, test and sync buttons post in the background (the server queues a
// task); results arrive over the websocket: a ping fills its cell, a host_health/host_synced
// event re-reads that host's section from the server (rendered from the database). The server
// sends "resync" when messages may have been lost (a Redis outage, this socket fell behind):
// the page then re-reads every section, as on (re)connect.
(function () {
  "use strict";
  const status = document.getElementById("ws-status");
  function setStatus(state, text) { status.dataset.state = state; status.textContent = text; }

  function connect(delay) {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}/ws/inventory/`);
    // on (re)connect, catch up from the database: what finished while no socket was open
    ws.onopen = () => { setStatus("open", "live"); delay = 500; refreshHost(null); };
    ws.onclose = () => {
      setStatus("closed", "reconnecting…");
      setTimeout(() => connect(Math.min(delay * 2, 10000)), delay);
    };
    ws.onmessage = (msg) => {
      const ev = JSON.parse(msg.data);
      if (ev.kind === "resync") { refreshHost(null); return; }
      if (ev.kind === "host_health" || ev.kind === "host_synced") { refreshHost(ev.host); return; }
      if (ev.kind !== "agent_ping") return;
      const row = document.querySelector(
        `section[data-host="${CSS.escape(ev.host)}"] tr[data-vm="${CSS.escape(ev.vm)}"]`);
      if (!row) return;
      const cell = row.querySelector(".ping-result");
      cell.textContent = ev.ok ? `ok (${ev.latency_ms} ms)` : `failed: ${ev.error}`;
      cell.dataset.at = ev.at;
    };
  }

  // Re-read one host's section (or every section: name null) as the server renders it now.
  function refreshHost(name) {
    const sel = name === null ? "section[data-host]" : `section[data-host="${CSS.escape(name)}"]`;
    if (!document.querySelector(sel)) return;
    const query = name === null ? "" : `?host=${encodeURIComponent(name)}`;
    fetch(location.pathname + query, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
      .then((html) => {
        const doc = new DOMParser().parseFromString(html, "text/html");
        doc.querySelectorAll(sel).forEach((fresh) => {
          const old = document.querySelector(
            `section[data-host="${CSS.escape(fresh.dataset.host)}"]`);
          if (!old) return;
          old.replaceWith(fresh);
          bind(fresh);
        });
      })
      .catch(() => {});
  }

  function bind(root) {
    root.querySelectorAll("form.ping-form").forEach((form) => {
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        const cell = form.closest("tr").querySelector(".ping-result");
        cell.textContent = "pinging…";
        post(form).then((r) => { if (!r.ok) cell.textContent = `could not queue (${r.status})`; });
      });
    });
    root.querySelectorAll("form.host-action").forEach((form) => {
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        const line = form.closest("section").querySelector(".host-status");
        const what = form.querySelector("button").textContent;
        line.textContent = `${what}: queued…`;
        post(form).then((r) => r.json().then((body) => {
          line.textContent = r.ok ? `${what}: running…` : `${what}: ${body.error || r.status}`;
        })).catch(() => { line.textContent = `${what}: could not queue`; });
      });
    });
  }

  function post(form) {
    return fetch(form.action, {
      method: "POST", body: new FormData(form),
      headers: { "X-Requested-With": "fetch" }, credentials: "same-origin",
    });
  }

  connect(500);
  bind(document);
})();
