// Live run view: transport and sequence bookkeeping only; the server renders the state.
//
// The server renders the page as of `data-last-seq`; this script resumes after it over the
// websocket `ws/runs/<id>/?after=<seq>` (reconnect with backoff, resuming from the last seq
// applied) and falls back to polling `/runs/<id>/events?view=1&after=<seq>` when websockets
// fail. Every message is one stored event with `view`, what it changed on the page, rendered by
// the server's one reducer and templates (runs/live_updates.py): `lines` (log lines to append,
// by row id), `html` (elements to put in place, by id: step rows, target headings, the run's
// heading) and `order` (a target's step rows in plan order). Each seq is applied at most once
// (seq <= lastSeq is ignored; a seq that skips ahead is held back until the gap is fetched),
// so a reload or a reconnect never duplicates a step, a log line or a screenshot.
(function () {
  "use strict";
  const root = document.getElementById("run");
  if (!root) return;

  // The status words (atp_core/status.py), rendered into the page by the server.
  const RUN = JSON.parse(document.getElementById("status-vocabulary").textContent).run_state;

  const runId = root.dataset.run;
  const eventsUrl = root.dataset.eventsUrl;
  const status = document.getElementById("ws-status");
  const MAX_LOG_LINES = 2000;

  let lastSeq = parseInt(root.dataset.lastSeq || "0", 10);
  let finished = root.dataset.state === RUN.FINISHED;
  const held = new Map(); // seq -> event that arrived ahead of a gap
  let ws = null;
  let wsFailures = 0;
  let polling = false;
  let gapFetch = null;

  // For people debugging in the console and for the browser tests.
  window.atpRun = {
    applied: () => lastSeq,
    transport: () => (polling ? "poll" : ws ? "ws" : "none"),
    socket: () => ws,
  };

  function setStatus(state, text) {
    if (!status) return;
    status.dataset.state = state;
    status.textContent = text;
  }

  function fmtDuration(seconds) {
    if (seconds === null || seconds === undefined || seconds === "") return "";
    const s = Number(seconds);
    if (!isFinite(s)) return "";
    if (s < 1) return `${Math.round(s * 1000)} ms`;
    if (s < 60) return `${s.toFixed(1)} s`;
    const m = Math.floor(s / 60);
    return `${m} min ${Math.round(s - m * 60)} s`;
  }

  // Elapsed time of the run and of each running step (the rows the server rendered with
  // data-started-at), ticking once a second. Times are the server's: the offset to this
  // browser's clock is measured once.
  const clockOffset = parseFloat(root.dataset.serverNow || "0") - Date.now() / 1000;
  function serverNow() { return Date.now() / 1000 + (root.dataset.serverNow ? clockOffset : 0); }
  let ticker = null;
  function tick() {
    const now = serverNow();
    const run = document.getElementById("run-duration");
    if (run && run.dataset.startedAt) run.textContent = fmtDuration(Math.max(0, now - parseFloat(run.dataset.startedAt)));
    root.querySelectorAll("li.step[data-started-at]").forEach((li) => {
      li.querySelector(".sdur").textContent = fmtDuration(Math.max(0, now - parseFloat(li.dataset.startedAt)));
    });
  }

  // --- applying what the server rendered ------------------------------------------------------

  function appendLine(boxId, seq, cls, text) {
    if (boxId === "run-log") {
      const box = document.getElementById("run-log");
      if (!box || box.querySelector(`[data-seq="${seq}"]`)) return;
      const li = document.createElement("li"); // as live.html renders it
      li.dataset.seq = String(seq);
      li.className = cls;
      li.textContent = text;
      box.appendChild(li);
      box.closest(".run-log-wrap").hidden = false;
      return;
    }
    const row = document.getElementById(boxId);
    const box = row && row.querySelector(".slog");
    if (!box || box.querySelector(`[data-seq="${seq}"]`)) return; // the row's next render has it
    const line = document.createElement("div"); // as runs/_step.html renders it
    line.className = cls;
    line.dataset.seq = String(seq);
    line.textContent = text;
    box.appendChild(line);
    box.hidden = false;
    while (box.childElementCount > MAX_LOG_LINES) box.firstElementChild.remove();
    row.classList.add("has-detail");
  }

  // A step the user opened or closed by hand stays so when its row is rendered again.
  root.addEventListener("click", (e) => {
    const summary = e.target.closest("li.step summary");
    if (summary) summary.parentElement.dataset.userToggled = "1";
  });

  function swap(id, html, fresh) {
    const tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    const node = tpl.content.firstElementChild;
    if (!node) return;
    const old = document.getElementById(id);
    if (!old) { fresh.set(id, node); return; } // placed by `order`
    const kept = old.querySelector(":scope > details[data-user-toggled]");
    const details = node.querySelector(":scope > details");
    if (kept && details) { details.open = kept.open; details.dataset.userToggled = "1"; }
    old.replaceWith(node);
  }

  function reorder(listId, ids, fresh) {
    const list = document.getElementById(listId);
    if (!list) return;
    const current = Array.from(list.children).map((li) => li.id);
    if (current.length === ids.length && current.every((id, i) => id === ids[i])) return;
    const wanted = ids.map((id) => fresh.get(id) || document.getElementById(id)).filter(Boolean);
    const keep = new Set(wanted);
    Array.from(list.children).forEach((li) => { if (!keep.has(li)) li.remove(); });
    wanted.forEach((li) => list.appendChild(li));
  }

  function applyView(view) {
    (view.lines || []).forEach(([box, seq, cls, text]) => appendLine(box, seq, cls, text));
    const fresh = new Map();
    (view.html || []).forEach(([id, html]) => swap(id, html, fresh));
    (view.order || []).forEach(([listId, ids]) => reorder(listId, ids, fresh));
  }

  // What an event does besides the page's state: the page's own controls.
  function onEvent(ev) {
    if (ev.type === "run_finished") endOfRun();
    else if (ev.type === "cancel_requested") {
      const btn = document.querySelector("#cancel-form button");
      if (btn) { btn.disabled = true; btn.textContent = "Cancelling…"; }
    } else if ((ev.type === "target_paused" || ev.type === "target_resumed") && window.atpPause) {
      window.atpPause.refresh(ev.target); // developer mode (static/runs/pause.js)
    }
  }

  function endOfRun() {
    finished = true;
    root.dataset.state = RUN.FINISHED;
    const done = document.getElementById("run-done");
    if (done) done.hidden = false;
    const note = document.getElementById("live-note");
    if (note) note.hidden = true;
    if (ticker) clearInterval(ticker);
    ticker = null;
    const cancel = document.getElementById("cancel-form");
    if (cancel) cancel.remove();
    root.querySelectorAll(".pause-panel").forEach((p) => p.remove());
    stopScreens();
    // Nothing follows run_finished: free the server's socket (onclose does a last poll).
    if (ws) { const socket = ws; setTimeout(() => socket.close(1000), 1000); }
  }

  function applyOne(ev) {
    try {
      if (ev.view) applyView(ev.view);
      onEvent(ev);
    } catch (err) {
      console.error("could not apply event", ev, err);
    }
    lastSeq = ev.seq;
    root.dataset.lastSeq = String(lastSeq);
    // for the page's other parts (static/runs/parts.js): every event, once, in order
    root.dispatchEvent(new CustomEvent("atp:run-event", { detail: ev }));
  }

  // `polled`: from the events endpoint, applied as it is; a websocket message without its
  // view (the server could not render it) is fetched again from the endpoint instead.
  function receive(ev, polled) {
    if (!ev || typeof ev.seq !== "number" || ev.seq <= lastSeq) return;
    if (ev.seq > lastSeq + 1 || (!ev.view && !polled)) {
      if (ev.view) held.set(ev.seq, ev);
      fillGap();
      return;
    }
    applyOne(ev);
    while (held.has(lastSeq + 1)) {
      const next = held.get(lastSeq + 1);
      held.delete(lastSeq + 1);
      applyOne(next);
    }
    for (const seq of held.keys()) if (seq <= lastSeq) held.delete(seq);
  }

  function fetchEvents() {
    return fetch(`${eventsUrl}?view=1&after=${lastSeq}`, {
      credentials: "same-origin", headers: { Accept: "application/json" },
    }).then((r) => {
      if (!r.ok) throw new Error(`events: HTTP ${r.status}`);
      return r.json();
    }).then((body) => {
      (body.events || []).forEach((ev) => receive(ev, true));
      if (body.state === RUN.FINISHED && !finished && !(body.events || []).length) endOfRun();
      return body;
    });
  }

  function fillGap() {
    if (gapFetch) return;
    gapFetch = fetchEvents().catch(() => {}).finally(() => { gapFetch = null; });
  }

  // --- transports ----------------------------------------------------------------------------

  function startPolling() {
    if (polling) return;
    polling = true;
    setStatus("open", "live (polling)");
    const tick = () => {
      fetchEvents().then((body) => {
        if (finished || body.state === RUN.FINISHED) {
          // One more fetch after the final event is applied, then stop.
          if (body.events && body.events.length) setTimeout(tick, 200);
          else setStatus("closed", "finished");
          return;
        }
        setTimeout(tick, body.events && body.events.length >= 500 ? 50 : 1000);
      }).catch(() => {
        setStatus("closed", "offline, retrying…");
        setTimeout(tick, 3000);
      });
    };
    tick();
  }

  function connect(delay) {
    if (polling) return;
    if (!("WebSocket" in window) || root.dataset.forcePoll === "1") { startPolling(); return; }
    const proto = location.protocol === "https:" ? "wss" : "ws";
    let opened = false;
    try {
      ws = new WebSocket(`${proto}://${location.host}/ws/runs/${runId}/?after=${lastSeq}`);
    } catch (err) {
      startPolling();
      return;
    }
    ws.onopen = () => { opened = true; wsFailures = 0; setStatus("open", "live"); };
    ws.onmessage = (msg) => {
      let body;
      try { body = JSON.parse(msg.data); } catch (err) { return; }
      if (body.events) body.events.forEach(receive);
      else if (body.event) receive(body.event);
      else receive(body);
    };
    ws.onclose = (e) => {
      ws = null;
      if (e.code === 4401 || e.code === 4403 || e.code === 4404) {
        setStatus("closed", "not allowed: reload the page");
        return;
      }
      if (!opened) wsFailures += 1;
      if (finished) {
        // The final events may still be in flight: one poll settles it.
        fetchEvents().catch(() => {}).finally(() => setStatus("closed", "finished"));
        return;
      }
      if (wsFailures >= 3) { startPolling(); return; }
      setStatus("closed", "reconnecting…");
      const jitter = Math.random() * 0.3 * delay;
      setTimeout(() => connect(Math.min(delay * 2, 15000)), delay + jitter);
    };
  }

  // --- the VM's screen, refreshed while the page is open and the run is active ---------------

  const screens = [];
  function startScreens() {
    root.querySelectorAll("img.live-screen").forEach((img) => {
      const state = { img, timer: null, busy: false };
      // the note is in the screen's heading (the image sits inside its full-size link)
      const box = img.closest("aside.screen") || img.parentElement;
      const refresh = () => {
        state.timer = null;
        if (finished) return;
        if (document.visibilityState !== "visible") { state.timer = setTimeout(refresh, 2000); return; }
        state.busy = true;
        const next = new Image();
        next.onload = () => {
          img.src = next.src;
          img.hidden = false;
          const note = box.querySelector(".screen-note");
          if (note) note.textContent = `updated ${window.atpTime.clock(new Date())}`;
          state.busy = false;
          state.timer = setTimeout(refresh, 450);  // >= 2 frames/s (one capture per VM server-side)
        };
        next.onerror = () => {
          state.busy = false;
          const note = box.querySelector(".screen-note");
          if (note) note.textContent = "no screen yet";
          state.timer = setTimeout(refresh, 4000);
        };
        next.src = `${img.dataset.src}?t=${Date.now()}`;
      };
      screens.push(state);
      refresh();
    });
  }
  function stopScreens() {
    screens.forEach((s) => { if (s.timer) clearTimeout(s.timer); s.timer = null; });
  }

  // --- cancel without leaving the page -------------------------------------------------------

  const cancelForm = document.getElementById("cancel-form");
  if (cancelForm) {
    cancelForm.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!window.confirm("Cancel this run?")) return;
      const btn = cancelForm.querySelector("button");
      btn.disabled = true;
      btn.textContent = "Cancelling…";
      fetch(cancelForm.action, {
        method: "POST", body: new FormData(cancelForm), credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      }).then((r) => {
        if (!r.ok) { btn.disabled = false; btn.textContent = `Cancel failed (${r.status})`; }
      });
    });
  }

  // Go live unless the run is already over.
  if (!finished) {
    setStatus("connecting", "connecting…");
    connect(500);
    startScreens();
    ticker = setInterval(tick, 1000);
    tick();
  } else {
    setStatus("closed", "finished");
  }
})();
