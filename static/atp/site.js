// Site-wide behaviour. One time format everywhere (24 h, as the server prints with
// atp_site/formats): window.atpTime.clock(date) -> "15:04:05", whatever the browser's locale.
window.atpTime = {
  clock(date) {
    const d = date instanceof Date ? date : new Date(date);
    const two = (n) => String(n).padStart(2, "0");
    return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  },
};

// One confirmation for every destructive action: a form with
// data-confirm="question" is submitted only after the user agrees.
(function () {
  "use strict";
  document.addEventListener("submit", (e) => {
    const form = e.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
})();
