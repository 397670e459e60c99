// Reference-image editor: drag rectangles on a screenshot; save areas (image pixels) as JSON.
// Live score: as areas change, POST them (debounced) to /references/score with the chosen
// source (a VM's screen now or a run screenshot) and show each area's score and where on that
// screen it was found (the engine's own matcher answers; docs/developer-mode.md).
(function () {
  "use strict";
  const canvas = document.getElementById("ref-canvas");
  if (!canvas) return;
  const ctx = canvas.getContext("2d");
  const list = document.getElementById("area-list");
  const areasInput = document.getElementById("areas-input");
  const imageData = document.getElementById("image-data");
  let areas = JSON.parse(document.getElementById("ref-areas").textContent || "[]");
  const img = new Image();
  let drag = null;
  let moving = null;
  let selected = -1;
  let scores = null; // the last score answer, while it still describes the areas drawn

  function toImage(e) {
    // content box only: the border must not shift the picked pixels
    const r = canvas.getBoundingClientRect();
    const x = (e.clientX - r.left - canvas.clientLeft) * canvas.width / canvas.clientWidth;
    const y = (e.clientY - r.top - canvas.clientTop) * canvas.height / canvas.clientHeight;
    return { x: Math.max(0, Math.min(canvas.width, Math.round(x))),
             y: Math.max(0, Math.min(canvas.height, Math.round(y))) };
  }
  function scoreOf(i) {
    return scores ? scores.areas.find((s) => s.index === i) : undefined;
  }
  function scoreText(s, threshold) {
    const f = s.found;
    return s.matched
      ? ` — matched: ${s.score.toFixed(3)} ≥ ${threshold}, found at (${f[0]}, ${f[1]})`
      : ` — no match: ${s.score.toFixed(3)} < ${threshold}, best at (${f[0]}, ${f[1]})`;
  }
  function label(c, text, x, y, h, colour) {
    // above the box, or below it at the top edge: never over what the area picked
    c.font = "bold 12px sans-serif";
    const w = c.measureText(text).width + 6;
    const top = y >= 16 ? y - 16 : y + h;
    c.fillStyle = colour;
    c.fillRect(x, top, w, 16);
    c.fillStyle = "#fff";
    c.fillText(text, x + 3, top + 12);
  }
  function draw() {
    ctx.drawImage(img, 0, 0);
    areas.concat(drag ? [drag] : []).forEach((a, i) => {
      ctx.lineWidth = i === selected ? 3 : 2;
      ctx.strokeStyle = a.type === "exclude" ? "#cf222e" : "#1a7f37";
      ctx.fillStyle = a.type === "exclude" ? "rgba(207,34,46,.15)" : "rgba(26,127,55,.15)";
      ctx.fillRect(a.x, a.y, a.width, a.height);
      ctx.strokeRect(a.x, a.y, a.width, a.height);
      const s = a === drag ? undefined : scoreOf(i);
      if (s) label(ctx, `${i + 1}: ${s.score.toFixed(3)}`, a.x, a.y, a.height, s.matched ? "#1a7f37" : "#cf222e");
    });
    list.innerHTML = "";
    areas.forEach((a, i) => {
      const li = document.createElement("li");
      li.textContent = `${i + 1}. ${a.type} ${a.width}×${a.height} at (${a.x}, ${a.y})`;
      const s = scoreOf(i);
      if (s) {
        const span = document.createElement("span");
        span.className = s.matched ? "area-score ok" : "area-score bad";
        span.textContent = scoreText(s, scores.threshold);
        li.appendChild(span);
        li.dataset.score = s.score;
        li.dataset.matched = s.matched;
      }
      list.appendChild(li);
    });
    if (areasInput) areasInput.value = JSON.stringify(areas);
  }
  function hit(p) { return areas.findIndex((a) => p.x >= a.x && p.x <= a.x + a.width && p.y >= a.y && p.y <= a.y + a.height); }
  function changed() { scores = null; draw(); score.schedule(); }

  // --- the live score ---------------------------------------------------------------------
  const score = (function () {
    const panel = document.getElementById("live-score");
    const none = { schedule() {}, start() {} };
    if (!panel) return none;
    const source = document.getElementById("score-source");
    const again = document.getElementById("score-again");
    const status = document.getElementById("score-status");
    const shot = document.getElementById("score-canvas");
    const sctx = shot.getContext("2d");
    const csrf = panel.querySelector("input[name=csrfmiddlewaretoken]").value;
    const thresholdInput = document.querySelector("#ref-form input[name=threshold]");
    const screenImg = new Image();
    let timer = null;
    let busy = false;
    let again_after = false;
    let version = 0;

    function say(text, kind) {
      status.textContent = text;
      status.className = kind || "hint";
      panel.dataset.state = kind === "ok" ? "matched" : kind === "bad" ? "no-match" : kind === "error" ? "error" : "waiting";
    }
    function threshold() {
      return thresholdInput ? thresholdInput.value : canvas.dataset.threshold || "0.96";
    }
    function body() {
      const [kind, id] = source.value.split(":");
      const data = { areas: areas.map(({ x, y, width, height, type }) => ({ x, y, width, height, type })), threshold: threshold() };
      data[kind] = Number(id);
      if (canvas.dataset.reference) data.reference = canvas.dataset.reference;
      else data.image = imageData && imageData.value ? imageData.value : canvas.dataset.src;
      return data;
    }
    function drawScreen(answer) {
      screenImg.onload = () => {
        shot.width = screenImg.naturalWidth; shot.height = screenImg.naturalHeight;
        sctx.drawImage(screenImg, 0, 0);
        answer.areas.forEach((s) => {
          const [, , w, h] = s.area;
          const colour = s.matched ? "#1a7f37" : "#cf222e";
          sctx.lineWidth = 2;
          sctx.strokeStyle = colour;
          sctx.setLineDash(s.matched ? [] : [6, 4]);
          sctx.strokeRect(s.found[0], s.found[1], w, h);
          sctx.setLineDash([]);
          label(sctx, `${s.index + 1}: ${s.score.toFixed(3)}`, s.found[0], s.found[1], h, colour);
        });
        shot.hidden = false;
      };
      screenImg.src = answer.screen.image;
    }
    function run() {
      timer = null;
      if (!source.value) { say("Choose a VM or a run screenshot to score the areas against."); shot.hidden = true; return; }
      if (!areas.some((a) => a.type === "match")) { say("Draw a match area to see its score."); return; }
      if (!img.naturalWidth) { schedule(); return; }
      if (busy) { again_after = true; return; }
      busy = true;
      const mine = ++version;
      say("Scoring…");
      fetch(panel.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "X-Requested-With": "fetch" },
        body: JSON.stringify(body()),
      })
        .then((r) => r.json().catch(() => ({ ok: false, error: `HTTP ${r.status}` })))
        .then((answer) => {
          if (mine !== version) return; // the areas changed meanwhile: a newer answer follows
          if (!answer.ok) { scores = null; draw(); say(`Not scored: ${answer.error || answer.detail}`, "error"); return; }
          scores = answer;
          draw();
          drawScreen(answer);
          const verdict = answer.matched
            ? `Matches: score ${answer.score.toFixed(3)} ≥ ${answer.threshold}`
            : `No match: score ${answer.score.toFixed(3)} < ${answer.threshold}`;
          say(`${verdict} on ${answer.source}`, answer.matched ? "ok" : "bad");
        })
        .catch((err) => say(`Not scored: ${err.message}`, "error"))
        .finally(() => { busy = false; if (again_after) { again_after = false; schedule(); } });
    }
    function schedule() {
      version++; // an answer for the areas as they were is no longer shown
      if (timer) clearTimeout(timer);
      timer = setTimeout(run, 400);
    }
    source.addEventListener("change", changed);
    again.addEventListener("click", changed);
    if (thresholdInput) thresholdInput.addEventListener("input", changed);
    return { schedule, start: run };
  })();

  img.onload = () => {
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    if (imageData && canvas.dataset.src.startsWith("data:")) imageData.value = canvas.dataset.src;
    else if (imageData) imageData.value = canvas.toDataURL("image/png");
    draw();
    score.start();
  };
  img.src = canvas.dataset.src;
  if (!areasInput) return;
  canvas.addEventListener("mousedown", (e) => {
    const p = toImage(e);
    const i = e.shiftKey ? hit(p) : -1;
    if (i >= 0) { selected = i; moving = { i, dx: p.x - areas[i].x, dy: p.y - areas[i].y, moved: false }; return; }
    drag = { x: p.x, y: p.y, width: 0, height: 0, type: "match", ox: p.x, oy: p.y };
  });
  canvas.addEventListener("mousemove", (e) => {
    const p = toImage(e);
    if (moving) {
      const a = areas[moving.i];
      a.x = Math.max(0, Math.min(canvas.width - a.width, p.x - moving.dx));
      a.y = Math.max(0, Math.min(canvas.height - a.height, p.y - moving.dy));
      moving.moved = true;
      scores = null;
      draw();
      return;
    }
    if (!drag) return;
    drag.x = Math.min(p.x, drag.ox); drag.y = Math.min(p.y, drag.oy);
    drag.width = Math.abs(p.x - drag.ox); drag.height = Math.abs(p.y - drag.oy);
    draw();
  });
  canvas.addEventListener("mouseup", (e) => {
    if (moving) { const m = moving; moving = null; if (m.moved) changed(); return; }
    if (!drag) return;
    const d = drag; drag = null;
    if (d.width >= 4 && d.height >= 4) {
      areas.push({ x: d.x, y: d.y, width: Math.min(d.width, canvas.width - d.x), height: Math.min(d.height, canvas.height - d.y), type: "match" });
      selected = areas.length - 1;
    } else {
      const i = hit(toImage(e));
      if (i >= 0) { areas[i].type = areas[i].type === "match" ? "exclude" : "match"; selected = i; }
    }
    changed();
  });
  canvas.addEventListener("dblclick", (e) => { const i = hit(toImage(e)); if (i >= 0) { areas.splice(i, 1); selected = -1; changed(); } });
  // the area last drawn, moved or clicked: arrow keys move it (Shift: by 10), Delete removes it
  canvas.addEventListener("keydown", (e) => {
    const a = areas[selected];
    if (!a) return;
    const step = e.shiftKey ? 10 : 1;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[e.key]) {
      a.x = Math.max(0, Math.min(canvas.width - a.width, a.x + moves[e.key][0]));
      a.y = Math.max(0, Math.min(canvas.height - a.height, a.y + moves[e.key][1]));
    } else if (e.key === "Delete" || e.key === "Backspace") {
      areas.splice(selected, 1); selected = -1;
    } else return;
    e.preventDefault();
    changed();
  });
})();
