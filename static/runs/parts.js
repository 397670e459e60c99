// The parts table of a run on several hosts (templates/runs/_run_parts.html): fetched again
// from the server when an event says a part changed; the page's live view (live.js) hands
// every event over as "atp:run-event".
(function () {
  "use strict";
  const root = document.getElementById("run");
  if (!root) return;
  const PART_EVENTS = new Set([
    "worker_started", "part_finished", "part_requeued", "worker_lost", "no_worker",
    "resent", "run_finished",
  ]);
  let inFlight = null;
  let again = false;

  function refresh() {
    const table = document.getElementById("run-parts");
    if (!table) return;
    if (inFlight) { again = true; return; }
    inFlight = fetch(table.dataset.partsUrl, { credentials: "same-origin" })
      .then((r) => {
        if (!r.ok) throw new Error(`parts: HTTP ${r.status}`);
        return r.text();
      })
      .then((html) => {
        const current = document.getElementById("run-parts");
        const box = document.createElement("div");
        box.innerHTML = html.trim();
        const fresh = box.querySelector("#run-parts");
        if (current && fresh) current.replaceWith(fresh);
      })
      .catch((err) => console.warn("could not refresh the parts", err))
      .finally(() => {
        inFlight = null;
        if (again) { again = false; refresh(); }
      });
  }

  root.addEventListener("atp:run-event", (e) => {
    const ev = e.detail || {};
    if (PART_EVENTS.has(ev.type)) refresh();
    // a part started again: its targets' steps are pending again, as the server has them
    if (ev.type === "part_requeued") window.location.reload();
  });
})();
