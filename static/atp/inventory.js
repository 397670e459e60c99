// Inventory page: ping buttons post in the background; results arrive over the websocket.
(function () {
  "use strict";
  const status = document.getElementById("ws-status");
  function setStatus(state, text) { status.dataset.state = state; status.textContent = text; }

  function connect(delay) {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}/ws/inventory/`);
    ws.onopen = () => { setStatus("open", "live"); delay = 500; };
    ws.onclose = () => {
      setStatus("closed", "reconnecting…");
      setTimeout(() => connect(Math.min(delay * 2, 10000)), delay);
    };
    ws.onmessage = (msg) => {
      const ev = JSON.parse(msg.data);
      if (ev.kind !== "agent_ping") return;
      const row = document.querySelector(
        `section[data-host="${CSS.escape(ev.host)}"] tr[data-vm="${CSS.escape(ev.vm)}"]`);
      if (!row) return;
      const cell = row.querySelector(".ping-result");
      cell.textContent = ev.ok ? `ok (${ev.latency_ms} ms)` : `failed: ${ev.error}`;
      cell.dataset.at = ev.at;
    };
  }
  connect(500);

  document.querySelectorAll("form.ping-form").forEach((form) => {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const cell = form.closest("tr").querySelector(".ping-result");
      cell.textContent = "pinging…";
      fetch(form.action, {
        method: "POST", body: new FormData(form),
        headers: { "X-Requested-With": "fetch" }, credentials: "same-origin",
      }).then((r) => { if (!r.ok) cell.textContent = `could not queue (${r.status})`; });
    });
  });
})();
