// Live run view: applies the run's events to the server-rendered page, in seq order, once each.
//
// The server renders the state as of `data-last-seq`; this script resumes after it over the
// websocket `ws/runs/<id>/?after=<seq>` (reconnect with backoff, resuming from the last seq
// applied) and falls back to polling `/runs/<id>/events?after=<seq>` when websockets fail.
// Every event is applied at most once (seq <= lastSeq is ignored; a seq that skips ahead is
// held back until the gap is fetched), so a reload or a reconnect never duplicates a step,
// a log line or a screenshot.
(function () {
  "use strict";
  const root = document.getElementById("run");
  if (!root) return;

  // The status words (atp_core/status.py), rendered into the page by the server.
  const VOCAB = JSON.parse(document.getElementById("status-vocabulary").textContent);
  const RUN = VOCAB.run_state;
  const RESULT = VOCAB.result;
  const STEP = VOCAB.step_status;
  const runningRows = `li.step[data-status="${STEP.RUNNING}"]`;

  const runId = root.dataset.run;
  const eventsUrl = root.dataset.eventsUrl;
  const artifactFindUrl = root.dataset.artifactFindUrl;
  const status = document.getElementById("ws-status");
  const MAX_LOG_LINES = 2000;

  let lastSeq = parseInt(root.dataset.lastSeq || "0", 10);
  let finished = root.dataset.state === RUN.FINISHED;
  const held = new Map(); // seq -> event that arrived ahead of a gap
  const currentIter = new Map(); // "target\u0000step" -> iteration of the latest step_started
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

  // --- DOM helpers -------------------------------------------------------------------------

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
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

  // Elapsed time of the run and of each running step, ticking once a second. Times are the
  // server's (event ts, page render time): the offset to this browser's clock is measured once.
  const clockOffset = parseFloat(root.dataset.serverNow || "0") - Date.now() / 1000;
  function serverNow() { return Date.now() / 1000 + (root.dataset.serverNow ? clockOffset : 0); }
  let ticker = null;
  function tick() {
    const now = serverNow();
    const run = document.getElementById("run-duration");
    if (run && run.dataset.startedAt) run.textContent = fmtDuration(Math.max(0, now - parseFloat(run.dataset.startedAt)));
    root.querySelectorAll(runningRows).forEach((li) => {
      if (li.dataset.startedAt) {
        li.querySelector(".sdur").textContent = fmtDuration(Math.max(0, now - parseFloat(li.dataset.startedAt)));
      }
    });
  }
  function stopTicking() {
    if (ticker) clearInterval(ticker);
    ticker = null;
    const run = document.getElementById("run-duration");
    if (run) delete run.dataset.startedAt;
  }

  function targetSection(name) {
    return root.querySelector(`section.target[data-target="${CSS.escape(name || "")}"]`);
  }

  function ensureTarget(name) {
    let section = targetSection(name);
    if (section) return section;
    const tpl = document.getElementById("target-template");
    section = tpl.content.firstElementChild.cloneNode(true);
    section.dataset.target = name;
    section.querySelector(".target-name").textContent = name;
    root.querySelector(".targets").appendChild(section);
    return section;
  }

  function stepRow(section, stepId, iteration) {
    return section.querySelector(
      `li.step[data-step="${CSS.escape(stepId)}"][data-iter="${iteration}"]`);
  }

  // "3.1" or, for a loop iteration, "3.1 [2]": the number is ${loop.index} (0-based), as on
  // the report (runs/templatetags/run_pages.py step_label).
  function stepLabel(stepId, iteration) {
    return iteration >= 0 ? `${stepId} [${iteration}]` : stepId;
  }

  function newStepRow(stepId, iteration, info) {
    const tpl = document.getElementById("step-template");
    const li = tpl.content.firstElementChild.cloneNode(true);
    li.dataset.step = stepId;
    li.dataset.iter = String(iteration);
    li.dataset.status = STEP.PENDING;
    li.style.setProperty("--depth", String(info.depth || 0));
    li.querySelector(".sid").textContent = stepLabel(stepId, iteration);
    li.querySelector(".sname").textContent = info.name || "";
    li.querySelector(".stype").textContent = info.type || "";
    if (info.phase === "finally") li.classList.add("phase-finally");
    if (iteration >= 0) li.classList.add("iteration");
    return li;
  }

  // The row of (target, step, iteration), created in plan order when it is not there yet.
  // A step inside a loop is planned as one row (iteration -1); its first iteration row takes
  // that row's place, so no empty template row stays behind (as on the server's render).
  function ensureStep(targetName, stepId, iteration, info) {
    const section = ensureTarget(targetName);
    const iter = iteration === null || iteration === undefined ? -1 : iteration;
    let row = stepRow(section, stepId, iter);
    if (row) return row;
    const list = section.querySelector("ol.steps");
    const siblings = list.querySelectorAll(`li.step[data-step="${CSS.escape(stepId)}"]`);
    const base = siblings.length ? siblings[0] : null;
    row = newStepRow(stepId, iter, {
      name: info.name || (base && base.querySelector(".sname").textContent),
      type: info.type || (base && base.querySelector(".stype").textContent),
      depth: info.depth !== undefined ? info.depth : base ? base.style.getPropertyValue("--depth") : 0,
      phase: info.phase,
    });
    if (siblings.length) {
      siblings[siblings.length - 1].after(row);
      if (iter >= 0 && base.dataset.iter === "-1") base.remove();
    } else {
      list.appendChild(row);
    }
    const empty = list.querySelector(".no-steps");
    if (empty) empty.remove();
    return row;
  }

  // Log lines, output and artifacts of a step go to the iteration it is running now.
  function rowFor(ev) {
    const key = `${ev.target}\u0000${ev.step_id}`;
    const iter = currentIter.has(key) ? currentIter.get(key) : -1;
    return ensureStep(ev.target, ev.step_id, iter, {});
  }

  function setStepStatus(row, value) {
    row.dataset.status = value;
    const badge = row.querySelector(".sstatus");
    badge.textContent = value;
    badge.className = `sstatus badge status-${value}`;
    const section = row.closest("section.target");
    if (section) updateCounts(section);
  }

  function updateCounts(section) {
    const counts = {};
    section.querySelectorAll("li.step").forEach((li) => {
      counts[li.dataset.status] = (counts[li.dataset.status] || 0) + 1;
    });
    const box = section.querySelector(".target-counts");
    if (!box) return;
    box.textContent = Object.keys(counts).sort()
      .map((k) => `${counts[k]} ${k}`).join(" · ");
  }

  function appendLog(row, seq, text, cls) {
    const box = row.querySelector(".slog");
    if (box.querySelector(`[data-seq="${seq}"]`)) return;
    const line = el("div", cls, text);
    line.dataset.seq = String(seq);
    box.appendChild(line);
    box.hidden = false;
    while (box.childElementCount > MAX_LOG_LINES) box.firstElementChild.remove();
    row.classList.add("has-detail");
  }

  function setRunState(state, result) {
    root.dataset.state = state;
    const badge = document.getElementById("run-state");
    if (badge) {
      const label = result ? result.replace("_", " ") : state;
      badge.textContent = label;
      badge.className = `badge status-${result || state}`;
    }
  }

  function addRunLog(ev, text) {
    const box = document.getElementById("run-log");
    if (!box) return;
    if (box.querySelector(`[data-seq="${ev.seq}"]`)) return;
    const li = el("li", `run-log-${ev.type}`, text);
    li.dataset.seq = String(ev.seq);
    box.appendChild(li);
    box.closest(".run-log-wrap").hidden = false;
  }

  function addArtifact(row, ev) {
    const d = ev.data || {};
    const box = row.querySelector(".sshots");
    const key = d.artifact_id ? `id:${d.artifact_id}` : `name:${d.name}`;
    if (box.querySelector(`[data-key="${CSS.escape(key)}"]`)) return;
    let url = d.artifact_id ? `${root.dataset.artifactBase}${d.artifact_id}` : d.url;
    if (!url) {
      const q = new URLSearchParams({ target: ev.target || "", step: ev.step_id || "", name: d.name || "" });
      url = `${artifactFindUrl}?${q}`;
    }
    if (d.kind === "diff") { // large and labelled, as on the report (runs/_step.html)
      const fig = el("figure", "diff-figure");
      fig.dataset.key = key;
      const link = el("a");
      link.href = url;
      link.target = "_blank";
      const img = el("img", "diff-image");
      img.src = url;
      img.alt = `${d.name}: reference, actual, difference`;
      link.appendChild(img);
      fig.appendChild(link);
      fig.appendChild(el("figcaption", "", `Screen check ${d.name}: reference | actual | difference (green: matched, red: below the threshold, magenta: excluded)`));
      box.appendChild(fig);
      box.hidden = false;
      row.classList.add("has-detail");
      return;
    }
    const isImage = d.kind === "screenshot" || (d.mime || "").startsWith("image/");
    const a = el("a", isImage ? "shot" : "artifact-link");
    a.href = url;
    a.target = "_blank";
    a.dataset.key = key;
    a.title = d.name || "";
    if (isImage) {
      const img = el("img", "thumb");
      img.alt = d.name || "screenshot";
      img.src = url;
      a.appendChild(img);
      a.appendChild(el("span", "shot-name", d.name || ""));
    } else {
      a.textContent = d.name || "artifact";
    }
    box.appendChild(a);
    box.hidden = false;
    row.classList.add("has-detail");
  }

  // The running step is open so its log streams in view; it folds away once it passed,
  // unless the user opened or closed it by hand.
  function autoOpen(row, open) {
    const details = row.querySelector("details");
    if (!details || details.dataset.userToggled) return;
    details.open = open;
  }
  root.addEventListener("click", (e) => {
    const summary = e.target.closest("li.step summary");
    if (summary) summary.parentElement.dataset.userToggled = "1";
  });

  // --- applying events ---------------------------------------------------------------------

  const handlers = {
    run_started(ev) {
      const d = ev.data || {};
      setRunState(RUN.RUNNING);
      const elapsed = document.getElementById("run-duration");
      if (elapsed && !finished && !elapsed.dataset.startedAt) elapsed.dataset.startedAt = String(ev.ts || serverNow());
      (d.targets || []).forEach((name) => {
        const section = ensureTarget(name);
        (d.plan || []).forEach((p) => ensureStep(name, p.id, -1, p));
        updateCounts(section);
      });
    },
    target_started(ev) {
      const section = ensureTarget(ev.target);
      const badge = section.querySelector(".target-state");
      badge.textContent = RUN.RUNNING;
      badge.className = `target-state badge status-${RUN.RUNNING}`;
    },
    step_started(ev) {
      const d = ev.data || {};
      const iter = d.iteration === null || d.iteration === undefined ? -1 : d.iteration;
      currentIter.set(`${ev.target}\u0000${ev.step_id}`, iter);
      const row = ensureStep(ev.target, ev.step_id, iter, d);
      if (d.name) row.querySelector(".sname").textContent = d.name; // rendered: ${...} filled in
      setStepStatus(row, STEP.RUNNING);
      autoOpen(row, true);
      if (d.attempt && d.attempt > 1) row.querySelector(".sattempt").textContent = `attempt ${d.attempt}`;
      row.dataset.startedAt = String(ev.ts || serverNow());
    },
    step_log(ev) {
      const d = ev.data || {};
      appendLog(rowFor(ev), ev.seq, `[${d.level || "info"}] ${d.message || ""}`, `log-${d.level || "info"}`);
    },
    step_output(ev) {
      const d = ev.data || {};
      appendLog(rowFor(ev), ev.seq, d.text || "", `out-${d.stream || "stdout"}`);
    },
    artifact(ev) {
      addArtifact(rowFor(ev), ev);
    },
    step_finished(ev) {
      const d = ev.data || {};
      const iter = d.iteration === null || d.iteration === undefined ? -1 : d.iteration;
      const row = ensureStep(ev.target, ev.step_id, iter, d);
      if (d.name) row.querySelector(".sname").textContent = d.name;
      setStepStatus(row, d.status || STEP.PASSED);
      autoOpen(row, d.status !== STEP.PASSED && d.status !== STEP.SKIPPED);
      row.querySelector(".sdur").textContent = fmtDuration(d.duration);
      // Output and error are printed once, as on the report (runs/selectors.py _print_once).
      if (d.error) {
        const err = row.querySelector(".serror");
        err.textContent = d.error;
        err.hidden = false;
        row.classList.add("has-detail");
        row.querySelector("details").open = true;
        const echo = `[error] ${d.error}`;
        const box = row.querySelector(".slog");
        box.querySelectorAll(":scope > div.log-error").forEach((line) => {
          if (line.textContent === echo) line.remove();
        });
        if (!box.childElementCount) box.hidden = true;
      }
      if (d.output && !row.querySelector('.slog > div[class^="out-"]')) {
        const out = row.querySelector(".soutput");
        out.textContent = d.output;
        out.hidden = false;
        row.classList.add("has-detail");
      }
    },
    target_finished(ev) {
      const d = ev.data || {};
      const section = ensureTarget(ev.target);
      const badge = section.querySelector(".target-state");
      badge.textContent = d.result || RUN.FINISHED;
      badge.className = `target-state badge status-${d.result || RUN.FINISHED}`;
      section.querySelector(".target-dur").textContent = fmtDuration(d.duration);
      // Steps still marked running on this target will not report again.
      section.querySelectorAll(runningRows).forEach((li) => {
        setStepStatus(li, d.result === RESULT.CANCELLED ? STEP.CANCELLED : STEP.ERROR);
      });
    },
    run_finished(ev) {
      const d = ev.data || {};
      finished = true;
      setRunState(RUN.FINISHED, d.result);
      const dur = document.getElementById("run-duration");
      if (dur) dur.textContent = fmtDuration(d.duration);
      const done = document.getElementById("run-done");
      if (done) done.hidden = false;
      const note = document.getElementById("live-note");
      if (note) note.hidden = true;
      stopTicking();
      const cancel = document.getElementById("cancel-form");
      if (cancel) cancel.remove();
      root.querySelectorAll(".pause-panel").forEach((p) => p.remove());
      stopScreens();
      // Nothing follows run_finished: free the server's socket (onclose does a last poll).
      if (ws) { const socket = ws; setTimeout(() => socket.close(1000), 1000); }
    },
    queued(ev) { addRunLog(ev, "queued"); },
    // developer mode (static/runs/pause.js draws the panel)
    target_paused(ev) { addRunLog(ev, describe(ev)); if (window.atpPause) window.atpPause.refresh(ev.target); },
    target_resumed(ev) { addRunLog(ev, describe(ev)); if (window.atpPause) window.atpPause.refresh(ev.target); },
    cancel_requested(ev) {
      const d = ev.data || {};
      const who = d.by || d.user ? ` by ${d.by || d.user}` : "";
      addRunLog(ev, `cancel requested${who}`);
      const btn = document.querySelector("#cancel-form button");
      if (btn) { btn.disabled = true; btn.textContent = "Cancelling…"; }
    },
  };

  function describe(ev) {
    const d = ev.data || {};
    // same wording as the server's run_event_text filter (sorted keys, scalars only)
    const bits = Object.keys(d).sort().filter((k) => d[k] !== null && typeof d[k] !== "object")
      .map((k) => `${k}=${d[k]}`);
    return `${ev.type.replace(/_/g, " ")}${bits.length ? ": " + bits.join(", ") : ""}`;
  }

  function applyOne(ev) {
    const fn = handlers[ev.type];
    try {
      if (fn) fn(ev);
      else addRunLog(ev, describe(ev));
    } catch (err) {
      console.error("could not apply event", ev, err);
    }
    lastSeq = ev.seq;
    root.dataset.lastSeq = String(lastSeq);
    // for the page's other parts (static/runs/parts.js): every event, once, in order
    root.dispatchEvent(new CustomEvent("atp:run-event", { detail: ev }));
  }

  function receive(ev) {
    if (!ev || typeof ev.seq !== "number" || ev.seq <= lastSeq) return;
    if (ev.seq > lastSeq + 1) {
      held.set(ev.seq, ev);
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
    return fetch(`${eventsUrl}?after=${lastSeq}`, {
      credentials: "same-origin", headers: { Accept: "application/json" },
    }).then((r) => {
      if (!r.ok) throw new Error(`events: HTTP ${r.status}`);
      return r.json();
    }).then((body) => {
      (body.events || []).forEach(receive);
      if (body.state === RUN.FINISHED && !finished && !(body.events || []).length) {
        setRunState(RUN.FINISHED, body.result);
        finished = true;
      }
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

  // Initial counts, then go live unless the run is already over.
  root.querySelectorAll("section.target").forEach(updateCounts);
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
