// Report page: "use as reference" sends a run's screenshot to the reference-image editor.
(function () {
  "use strict";
  const form = document.getElementById("ref-form");
  if (!form) return;
  document.querySelectorAll("button.use-ref").forEach((btn) => {
    btn.addEventListener("click", () => {
      btn.disabled = true;
      fetch(btn.dataset.src, { credentials: "same-origin" })
        .then((r) => { if (!r.ok) throw new Error(`HTTP ${r.status}`); return r.blob(); })
        .then((blob) => new Promise((resolve, reject) => {
          const reader = new FileReader();
          reader.onload = () => resolve(reader.result);
          reader.onerror = reject;
          reader.readAsDataURL(blob.type === "image/png" ? blob : new Blob([blob], { type: "image/png" }));
        }))
        .then((dataUrl) => {
          form.elements.image_data.value = dataUrl;
          form.elements.source.value = btn.dataset.source;
          form.submit();
        })
        .catch((err) => { btn.disabled = false; btn.textContent = `could not load (${err.message})`; });
    });
  });
})();
