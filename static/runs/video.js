// The report's video player: each target's WebM with its markers (input events, step starts
// and ends). Clicking a step seeks to it; while playing, the step on screen is highlighted;
// inputs are ticks on the timeline, steps are bands.
(function () {
  "use strict";
  function setup(player) {
    const video = player.querySelector("video");
    const section = player.closest("section.target");
    const timeline = player.querySelector(".video-timeline");
    const url = player.dataset.markers;
    if (!video || !section || !url) return;
    fetch(url, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error("markers " + r.status))))
      .then((doc) => wire(doc))
      .catch(() => player.classList.add("no-markers"));

    function wire(doc) {
      const total = Math.max(Number(doc.seconds) || 0, 0.001);
      const spans = {};
      for (const m of doc.markers || []) {
        if (m.kind === "step_start") {
          spans[m.step] = spans[m.step] || { start: m.t, end: m.t, label: m.label };
        } else if (m.kind === "step_end" && spans[m.step]) {
          spans[m.step].end = m.t;
        }
      }
      const steps = player.querySelector(".video-steps");
      for (const [id, span] of Object.entries(spans)) {
        const band = document.createElement("span");
        band.className = "video-step";
        band.dataset.step = id;
        band.title = span.label;
        band.style.left = (100 * span.start / total) + "%";
        band.style.width = Math.max(0.3, 100 * (span.end - span.start) / total) + "%";
        steps.appendChild(band);
      }
      const inputs = player.querySelector(".video-inputs");
      for (const m of doc.markers || []) {
        if (m.kind !== "input") continue;
        const tick = document.createElement("span");
        tick.className = "video-input";
        tick.title = m.label + " at " + m.t.toFixed(2) + " s";
        tick.style.left = (100 * m.t / total) + "%";
        inputs.appendChild(tick);
      }
      section.querySelectorAll("li.step").forEach((li) => {
        const span = spans[li.dataset.step];
        if (!span) return;
        li.classList.add("seekable");
        li.querySelector("summary").addEventListener("click", () => {
          video.currentTime = span.start;
          highlight();
        });
      });
      timeline.addEventListener("click", (e) => {
        const box = timeline.getBoundingClientRect();
        video.currentTime = total * (e.clientX - box.left) / box.width;
      });
      const head = player.querySelector(".video-head");
      function highlight() {
        const t = video.currentTime;
        head.style.left = Math.min(100, 100 * t / total) + "%";
        let current = null;
        for (const [id, span] of Object.entries(spans)) {
          if (t >= span.start && t <= span.end + 0.05) current = id;
        }
        section.querySelectorAll("li.step").forEach((li) => {
          li.classList.toggle("on-screen", li.dataset.step === current);
        });
        steps.querySelectorAll(".video-step").forEach((b) => {
          b.classList.toggle("on-screen", b.dataset.step === current);
        });
      }
      video.addEventListener("timeupdate", highlight);
      video.addEventListener("seeked", highlight);
      player.classList.add("ready");
      highlight();
    }
  }
  document.querySelectorAll(".video-player").forEach(setup);
})();
