// Report page: a failed screen check's reference vs actual slider. The reference lies over the
// actual screen, cut at the line; the range input (keyboard too) or a drag on the picture moves it.
(function () {
  "use strict";
  function setup(figure) {
    const frame = figure.querySelector(".slider-frame");
    const range = figure.querySelector(".slider-range");
    if (!frame || !range) return;
    const show = (value) => {
      const pos = Math.min(100, Math.max(0, Number(value)));
      frame.style.setProperty("--pos", `${pos}%`);
      range.value = String(Math.round(pos));
    };
    const at = (event) => {
      const box = frame.getBoundingClientRect();
      if (box.width > 0) show(((event.clientX - box.left) / box.width) * 100);
    };
    range.addEventListener("input", () => show(range.value));
    let dragging = false;
    frame.addEventListener("pointerdown", (event) => {
      dragging = true;
      frame.setPointerCapture(event.pointerId);
      at(event);
      event.preventDefault();
    });
    frame.addEventListener("pointermove", (event) => { if (dragging) at(event); });
    const stop = () => { dragging = false; };
    frame.addEventListener("pointerup", stop);
    frame.addEventListener("pointercancel", stop);
    show(range.value);
  }
  document.querySelectorAll("figure.ref-slider").forEach(setup);
})();
