// Reference-image editor: drag rectangles on a screenshot; save areas (image pixels) as JSON.
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

  function toImage(e) {
    // content box only: the border must not shift the picked pixels
    const r = canvas.getBoundingClientRect();
    const x = (e.clientX - r.left - canvas.clientLeft) * canvas.width / canvas.clientWidth;
    const y = (e.clientY - r.top - canvas.clientTop) * canvas.height / canvas.clientHeight;
    return { x: Math.max(0, Math.min(canvas.width, Math.round(x))),
             y: Math.max(0, Math.min(canvas.height, Math.round(y))) };
  }
  function draw() {
    ctx.drawImage(img, 0, 0);
    areas.concat(drag ? [drag] : []).forEach((a) => {
      ctx.lineWidth = 2;
      ctx.strokeStyle = a.type === "exclude" ? "#cf222e" : "#1a7f37";
      ctx.fillStyle = a.type === "exclude" ? "rgba(207,34,46,.15)" : "rgba(26,127,55,.15)";
      ctx.fillRect(a.x, a.y, a.width, a.height);
      ctx.strokeRect(a.x, a.y, a.width, a.height);
    });
    list.innerHTML = "";
    areas.forEach((a, i) => {
      const li = document.createElement("li");
      li.textContent = `${i + 1}. ${a.type} ${a.width}×${a.height} at (${a.x}, ${a.y})`;
      list.appendChild(li);
    });
    if (areasInput) areasInput.value = JSON.stringify(areas);
  }
  function hit(p) { return areas.findIndex((a) => p.x >= a.x && p.x <= a.x + a.width && p.y >= a.y && p.y <= a.y + a.height); }

  img.onload = () => {
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    if (imageData && canvas.dataset.src.startsWith("data:")) imageData.value = canvas.dataset.src;
    else if (imageData) imageData.value = canvas.toDataURL("image/png");
    draw();
  };
  img.src = canvas.dataset.src;
  if (!areasInput) return;
  canvas.addEventListener("mousedown", (e) => { const p = toImage(e); drag = { x: p.x, y: p.y, width: 0, height: 0, type: "match", ox: p.x, oy: p.y }; });
  canvas.addEventListener("mousemove", (e) => {
    if (!drag) return;
    const p = toImage(e);
    drag.x = Math.min(p.x, drag.ox); drag.y = Math.min(p.y, drag.oy);
    drag.width = Math.abs(p.x - drag.ox); drag.height = Math.abs(p.y - drag.oy);
    draw();
  });
  canvas.addEventListener("mouseup", (e) => {
    if (!drag) return;
    const d = drag; drag = null;
    if (d.width >= 4 && d.height >= 4) {
      areas.push({ x: d.x, y: d.y, width: Math.min(d.width, canvas.width - d.x), height: Math.min(d.height, canvas.height - d.y), type: "match" });
    } else {
      const i = hit(toImage(e));
      if (i >= 0) areas[i].type = areas[i].type === "match" ? "exclude" : "match";
    }
    draw();
  });
  canvas.addEventListener("dblclick", (e) => { const i = hit(toImage(e)); if (i >= 0) { areas.splice(i, 1); draw(); } });
})();
